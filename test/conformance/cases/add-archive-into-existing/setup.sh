set -e
mkdir -p t/top/sub
echo one > t/top/one.txt
echo two > t/top/sub/two.txt
chmod 0711 t/top
tar --sort=name --mtime=@0 --owner=1000 --group=1000 --numeric-owner -C t -cf files.tar top
rm -rf t
