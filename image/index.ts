// Public surface of image/: OCI formats, layers and the on-disk image store.
// Several people add export lines here: edit with a targeted insert, never rewrite the file.
