"""Process runtime: what starts, trains, supervises and talks to the servers of one instance.

* ``runner.py``: ``Stack``, the action server, the Rasa server and the staff console of one
  instance, with the runtime ``endpoints.yml`` and ``credentials.yml`` it gives Rasa.
* ``supervisor.py``: restarts a crashed server with backoff; gives up on one that keeps crashing.
* ``training.py``: trains the model when (and only when) its inputs changed; the
  environment every server process gets (``rasa_env``).
* ``credentials.py``: credentials.yml without the channels whose variables are unset.
* ``rasa_api.py``: the small aiohttp client of Rasa's HTTP API (the delivery seam).

The Rasa process itself starts in ``bot/rasa_server.py`` (its module name is the
process's command line, which ``ps``, the benchmarks and the cluster tests look for).
"""
