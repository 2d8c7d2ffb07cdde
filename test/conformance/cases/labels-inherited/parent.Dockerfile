FROM busybox
LABEL parent=1 shared=parent
ENV PARENT_ENV=1 PATH=/custom/bin:/bin
EXPOSE 7000
VOLUME /pvol
USER nobody
WORKDIR /pw
