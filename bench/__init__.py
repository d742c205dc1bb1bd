"""Benchmark of the clinic assistant's channels: REST, the visitor websocket and Rasa's socket.io.

`python -m bench.run` (or `make bench`) starts the real servers, measures round-trip latency
at several concurrency levels, then holds 200 websocket visitors at once, and writes
`bench/results/latest.{md,json}` and `bench/results/latency.png`. See bench/README.md.
"""
