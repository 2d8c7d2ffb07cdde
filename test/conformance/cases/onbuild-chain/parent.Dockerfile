FROM busybox
ONBUILD RUN echo "trigger ran in $(pwd)" >> /triggers
ONBUILD WORKDIR /after-trigger
LABEL level=parent
