"""Several machines: the Rasa endpoints of a clustered process, the local demo cluster
(``bot cluster up|down|status``, scripts/cluster.sh) and its load balancer. docs/scaling.md."""
