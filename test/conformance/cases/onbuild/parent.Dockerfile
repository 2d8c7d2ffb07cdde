FROM busybox
ONBUILD COPY trigger.txt /from-trigger.txt
ONBUILD RUN echo "triggered" > /triggered
ONBUILD ENV TRIGGERED=yes
RUN echo parent > /parent
