"""What every server's target is built from, so that each target reads as its server's flow.

* ``steps``: the journal's step names and item kinds, and ``once`` (done, else compute and
  finish): the idiom every resumable step follows;
* ``connection``: how a target gets its HTTP clients (a ``ClientRecipe`` per server; the
  foreground client, and the quiet, short one for work done while the tests run);
* ``target``: ``ServerTarget``, the constructor every target shares, the deliver wrapper that
  counts requests and bytes whatever happens, and the link step;
* ``memory``: a journal in memory, for work done before there is an outbox entry;
* ``places`` and ``notes``: where a case sits (folders, classes, its name) and what its notes
  say of how it ran, worded alike for the servers that file tests by path and take notes;
* ``checks``: what the servers' ``tmupload check`` share (the configuration line, the lines a
  failed first call gives);
* ``demo``: ``EmulatorDemo``, a target's ``tmupload demo`` wiring as data (its emulator, the
  credentials and flags the example suite needs) and its own read-back.

Beside it: ``targets/batching.py`` (bounded batches, halving, the first alone then a pool) and
``targets/statusmap.py`` (status maps and status words).

The modules are imported one by one (this package imports nothing): ``steps`` is light enough
for the core's attachment sender, the others bring the HTTP stack.
"""
