#!/usr/bin/env bash
# tests/bench/lib.sh -- what the benchmark scripts share, sourced after
# deploy/lib.sh: the generator of the uploads they send.

# make_files DIR COUNT TAG: COUNT distinct English-like files of SIZE bytes
# (SIZE from the caller), the same bytes for the same TAG on every run.
make_files() {
    mkdir -p "$1"
    python3 - "$1" "$2" "$SIZE" "$3" <<'PY'
import os, random, sys
d, n, size, tag = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
words = ("the river keeps its counsel and carries what it is given to the "
         "sea while the town sleeps under a sky of slate and early light").split()
rng = random.Random(tag)
for i in range(n):
    head = "%s sample %d: " % (tag, i)
    body, length = [], len(head)
    while length < size:
        w = rng.choice(words)
        body.append(w)
        length += len(w) + 1
    with open(os.path.join(d, "%07d.txt" % i), "w") as f:
        f.write((head + " ".join(body))[:size - 1] + "\n")
PY
}
