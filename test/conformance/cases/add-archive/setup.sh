set -e
mkdir -p t/top/sub t/top/empty
echo one > t/top/one.txt
echo two > t/top/sub/two.txt
chmod 0750 t/top/sub
chmod 0600 t/top/one.txt
ln -s one.txt t/top/link
ln t/top/one.txt t/top/hard
tar --sort=name --mtime=@0 --owner=1000 --group=1000 --numeric-owner -C t -czf files.tar.gz top
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C t -cf plain.tar top/sub
echo not gzip > not-an-archive.gz
rm -rf t
