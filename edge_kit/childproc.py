"""Child processes that do not outlive edgekit: the helpers live in converters.childproc (the tool
children need them and `converters` imports nothing from edge_kit); re-exported here for the rest of
the tree (bench, the simulator's stand-ins)."""
from converters.childproc import (PR_SET_PDEATHSIG, describe_exit, die_with_parent, owned_tempdir, pid_alive,
                                  sweep_dead_owners)

__all__ = ["PR_SET_PDEATHSIG", "describe_exit", "die_with_parent", "owned_tempdir", "pid_alive", "sweep_dead_owners"]
