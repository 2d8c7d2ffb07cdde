/*
 * filesrv PORT DIR - the web server inside the ports bench's container (ports.sh), built static
 * (gcc -static) and bind-mounted into a busybox container on every engine.
 *
 * Why not busybox httpd, the tutorial's server: it listens with a backlog of 9
 * (networking/httpd.c openServer: xlisten(n, 9)). A burst of 200 connections then overflows the
 * accept queue, the kernel drops the extra SYNs, and the clients' (or a port forwarder's) SYN
 * retries back off 1, 3, 7, 15... s: a round of 200 took 4 s to 2 minutes here and some
 * connections were dropped, so it measured the retry timer, not the published port. This server
 * differs in that only: a backlog of 4096, otherwise the same model as busybox httpd (a process
 * per connection, sendfile, one GET per connection, then close).
 *
 * GET /NAME[?anything] answers DIR/NAME (NAME without '/') with 200 and Content-Length, anything
 * else 404. Nothing else of HTTP is needed by the bench.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static void answer(int conn, int dir) {
  char req[4096];
  size_t got = 0;
  while (got < sizeof req - 1) {
    ssize_t n = read(conn, req + got, sizeof req - 1 - got);
    if (n <= 0) return;
    got += (size_t)n;
    req[got] = '\0';
    if (strstr(req, "\r\n\r\n")) break;
  }
  char name[256];
  if (sscanf(req, "GET /%255[^ ?/\r\n]", name) != 1 || strcmp(name, "..") == 0 || strcmp(name, ".") == 0) {
    dprintf(conn, "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    return;
  }
  int fd = openat(dir, name, O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    dprintf(conn, "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    return;
  }
  dprintf(conn, "HTTP/1.0 200 OK\r\nContent-Length: %lld\r\nConnection: close\r\n\r\n", (long long)st.st_size);
  off_t off = 0;
  while (off < st.st_size) {
    if (sendfile(conn, fd, &off, (size_t)(st.st_size - off)) <= 0) return;
  }
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: filesrv PORT DIR\n");
    return 2;
  }
  int dir = open(argv[2], O_RDONLY | O_DIRECTORY);
  if (dir < 0) {
    perror(argv[2]);
    return 1;
  }
  signal(SIGCHLD, SIG_IGN); /* children are reaped by the kernel */
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
  if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(s, 4096) != 0) {
    perror("listen");
    return 1;
  }
  for (;;) {
    int conn = accept(s, NULL, NULL);
    if (conn < 0) continue;
    if (fork() == 0) {
      close(s);
      answer(conn, dir);
      shutdown(conn, SHUT_WR);
      _exit(0);
    }
    close(conn);
  }
}
