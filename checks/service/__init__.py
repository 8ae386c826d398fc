"""The application layer: what each command does, given a typed request (the command line parses
and prints; the services build the run, write the reports and publish)."""
