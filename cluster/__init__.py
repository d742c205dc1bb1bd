"""Running several assistant servers on PostgreSQL and Redis behind nginx (`make run-cluster`)."""
