// Public surface of frontend/: Dockerfile instructions -> build graph, and the build context filter.
// Several people add export lines here: edit with a targeted insert, never rewrite the file.
