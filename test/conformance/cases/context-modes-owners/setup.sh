set -e
echo private > private.txt && chmod 0600 private.txt
echo suid > suid.bin && chmod 4755 suid.bin
mkdir -p emptydir locked/inner && chmod 0700 locked && echo l > locked/inner/f && chmod 0751 locked/inner
chown 1234:5678 private.txt locked/inner/f
echo g > sticky && chmod 1644 sticky
ln private.txt hardlinked.txt
