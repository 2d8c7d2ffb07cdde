set -e
mkdir -p t/d && echo content > t/d/f && ln -s d/f t/link && chmod 0700 t/d
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C t -cjf a.tar.bz2 d link
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C t -cJf a.tar.xz d link
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C t -czf a.tgz d link
# Entries with ./ and leading / (tar strips it with -P kept), and a long name (GNU long link).
mkdir -p w/sub && echo w > w/sub/nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn
tar --sort=name --mtime=@0 --owner=7 --group=8 --numeric-owner -C w -cf weird.tar ./sub
rm -rf t w
