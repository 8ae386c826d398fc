"""One module per subcommand: parse its options, call the services below, print, return an exit code."""
