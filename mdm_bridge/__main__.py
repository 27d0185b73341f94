"""`python -m mdm_bridge` is the `mdm-bridge` command."""

from mdm_bridge.cli import main

main(prog_name="mdm-bridge")
