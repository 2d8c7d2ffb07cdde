// Public surface of executor/: run one process in a rootfs under runc.
