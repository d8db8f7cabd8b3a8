#pragma once
// `reef-agent teardown`: what k3s-killall.sh does for K3s. With the agent stopped, it
// stops and removes every container of this agent (its containers outlive it by
// design), releases their pod networks (CNI DEL: addresses, veths, iptables rules,
// namespaces), unmounts their volumes, root filesystems and the agent's tmpfs, and
// removes their cgroups. The agent's state and images stay: a later start runs the
// same pods again. Run it in the network namespace the agent ran in.

#include "agent/agent.h"

namespace reef::agent {

// The exit code for main(): 0 when everything was released.
int Teardown(const AgentOptions& options);

}  // namespace reef::agent
