// The pod status the agent reports: phases, init containers, readiness conditions and
// waiting reasons, computed from container records (no runtime, no clock).

#include "agent/pods/pod_status.h"

#include <doctest/doctest.h>

#include "agent/pods/pod_sandbox.h"
#include "agent/runtime/exit_record.h"

namespace reef::agent {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);

reef::v1::Pod PodWith(std::vector<std::string> init, std::vector<std::string> main, const std::string& policy = "") {
  reef::v1::Pod pod;
  pod.mutable_metadata()->set_name("p");
  pod.mutable_spec()->set_restart_policy(policy);
  for (const auto& n : init) pod.mutable_spec()->add_init_containers()->set_name(n);
  for (const auto& n : main) pod.mutable_spec()->add_containers()->set_name(n);
  return pod;
}

ContainerRecord Running(const std::string& name) {
  ContainerRecord r;
  r.id = "id-" + name;
  r.name = name;
  return r;
}

ContainerRecord Exited(const std::string& name, int code, absl::Time not_before = absl::InfinitePast()) {
  ContainerRecord r = Running(name);
  runtime::ExitRecord e;
  e.exit_code = code;
  e.reason = code == 0 ? "Completed" : "Error";
  e.finished_at = kNow - absl::Seconds(1);
  r.finished = true;
  r.exit_json = runtime::ExitRecordToJson(e);
  r.not_before = not_before;
  return r;
}

PodStatusInputs Inputs(const reef::v1::Pod& pod) {
  PodStatusInputs in;
  in.pod = &pod;
  in.now = kNow;
  return in;
}

const reef::v1::PodCondition& Condition(const reef::v1::PodStatus& s, const std::string& type) {
  for (const auto& c : s.conditions()) {
    if (c.type() == type) return c;
  }
  FAIL("no condition " << type);
  static reef::v1::PodCondition none;
  return none;
}

TEST_CASE("pod status: while an init container runs the pod is Pending and its containers wait PodInitializing") {
  reef::v1::Pod pod = PodWith({"setup", "migrate"}, {"app"});
  PodStatusInputs in = Inputs(pod);
  in.latest["setup"] = Exited("setup", 0);
  in.latest["migrate"] = Running("migrate");
  reef::v1::PodStatus s = ComputePodStatus(in);
  CHECK(s.phase() == "Pending");
  CHECK(s.init_container_statuses(0).state().terminated().exit_code() == 0);
  CHECK(s.init_container_statuses(1).state().has_running());
  CHECK(s.container_statuses(0).state().waiting().reason() == "PodInitializing");
  CHECK(Condition(s, "Initialized").status() == "False");
  CHECK(Condition(s, "Initialized").message() == "containers with incomplete status: [migrate]");
  CHECK(Condition(s, "Ready").status() == "False");
}

TEST_CASE("pod status: a failed init container backs off, or fails the pod under restartPolicy Never") {
  reef::v1::Pod pod = PodWith({"setup"}, {"app"});
  PodStatusInputs in = Inputs(pod);
  in.latest["setup"] = Exited("setup", 3, kNow + absl::Seconds(10));
  reef::v1::PodStatus s = ComputePodStatus(in);
  CHECK(s.phase() == "Pending");
  CHECK(s.init_container_statuses(0).state().waiting().reason() == "CrashLoopBackOff");
  CHECK(s.init_container_statuses(0).last_state().terminated().exit_code() == 3);

  pod = PodWith({"setup"}, {"app"}, "Never");
  s = ComputePodStatus(in);
  CHECK(s.phase() == "Failed");
  CHECK(s.init_container_statuses(0).state().terminated().exit_code() == 3);
  CHECK(s.container_statuses(0).state().waiting().reason() == "PodInitializing");
}

TEST_CASE("pod status: readiness comes from the probes, and Ready names the containers that are not") {
  reef::v1::Pod pod = PodWith({}, {"web", "sidecar"});
  PodStatusInputs in = Inputs(pod);
  in.latest["web"] = Running("web");
  in.latest["sidecar"] = Running("sidecar");
  in.pod_ip = "10.42.0.7";
  in.ready = [](const reef::v1::Container&, const std::string& id) { return id != "id-web"; };
  reef::v1::PodStatus s = ComputePodStatus(in);
  CHECK(s.phase() == "Running");
  CHECK(s.pod_ip() == "10.42.0.7");
  CHECK_FALSE(s.container_statuses(0).ready());
  CHECK(s.container_statuses(1).ready());
  CHECK(Condition(s, "Initialized").status() == "True");
  CHECK(Condition(s, "ContainersReady").status() == "False");
  CHECK(Condition(s, "Ready").message() == "containers with unready status: [web]");

  in.ready = [](const reef::v1::Container&, const std::string&) { return true; };
  s = ComputePodStatus(in);
  CHECK(Condition(s, "Ready").status() == "True");
  CHECK(Condition(s, "ContainersReady").status() == "True");
}

TEST_CASE("pod status: containers not made yet say why they wait") {
  reef::v1::Pod pod = PodWith({}, {"app", "other"});
  PodStatusInputs in = Inputs(pod);
  in.waiting["app"] = {"CreateContainerConfigError", "container \"app\": configmap \"cfg\" not found"};
  reef::v1::PodStatus s = ComputePodStatus(in);
  CHECK(s.phase() == "Pending");
  CHECK(s.container_statuses(0).state().waiting().reason() == "CreateContainerConfigError");
  CHECK(s.container_statuses(0).state().waiting().message() == "container \"app\": configmap \"cfg\" not found");
  CHECK(s.container_statuses(1).state().waiting().reason() == "ContainerCreating");
}

TEST_CASE("pod status: a container between a crash and its restart keeps the pod Running") {
  reef::v1::Pod pod = PodWith({}, {"app"});
  PodStatusInputs in = Inputs(pod);
  in.latest["app"] = Exited("app", 1, kNow + absl::Seconds(20));
  reef::v1::PodStatus s = ComputePodStatus(in);
  CHECK(s.phase() == "Running");
  CHECK(s.container_statuses(0).state().waiting().reason() == "CrashLoopBackOff");
  CHECK(Condition(s, "Ready").status() == "False");
}

TEST_CASE("pod status: a container stopped by its liveness probe comes back under OnFailure even after exit 0") {
  reef::v1::Pod pod = PodWith({}, {"app"}, "OnFailure");
  PodStatusInputs in = Inputs(pod);
  in.latest["app"] = Exited("app", 0, kNow + absl::Seconds(10));
  CHECK(ComputePodStatus(in).phase() == "Succeeded");  // it exited on its own
  in.latest["app"].stopped_by_probe = true;
  reef::v1::PodStatus s = ComputePodStatus(in);
  CHECK(s.phase() == "Running");
  CHECK(s.container_statuses(0).state().waiting().reason() == "CrashLoopBackOff");
  CHECK(s.container_statuses(0).last_state().terminated().exit_code() == 0);
}

TEST_CASE("pod status: the last state names the previous attempt's container") {
  reef::v1::Pod pod = PodWith({}, {"app"});
  PodStatusInputs in = Inputs(pod);
  ContainerRecord second = Running("app");
  second.pod_key = "default/p";
  second.spec_hash = "0123456789abcdef";
  second.attempt = 1;
  second.restart_count = 1;
  second.id = ContainerId(second.pod_key, second.spec_hash, "app", 1);
  second.last_exit_json = Exited("app", 2).exit_json;
  in.latest["app"] = second;
  reef::v1::PodStatus s = ComputePodStatus(in);
  CHECK(s.container_statuses(0).container_id() == "runc://" + second.id);
  CHECK(s.container_statuses(0).last_state().terminated().container_id() ==
        "runc://" + ContainerId("default/p", "0123456789abcdef", "app", 0));
  CHECK(s.container_statuses(0).last_state().terminated().exit_code() == 2);
}

TEST_CASE("pod status: the second init container waits for the first, and the containers for both") {
  reef::v1::Pod pod = PodWith({"migrate", "seed"}, {"app"});
  PodStatusInputs in = Inputs(pod);
  in.latest["migrate"] = Exited("migrate", 0);
  CHECK_FALSE(InitContainersDone(pod.spec(), in.latest));
  CHECK(ComputePodStatus(in).init_container_statuses(1).state().waiting().reason() == "PodInitializing");
  in.latest["seed"] = Exited("seed", 0);
  CHECK(InitContainersDone(pod.spec(), in.latest));
  CHECK(ComputePodStatus(in).container_statuses(0).state().waiting().reason() == "ContainerCreating");
}

TEST_CASE("pod status: all containers done decide Succeeded or Failed") {
  reef::v1::Pod pod = PodWith({}, {"a", "b"}, "Never");
  PodStatusInputs in = Inputs(pod);
  in.latest["a"] = Exited("a", 0);
  in.latest["b"] = Exited("b", 0);
  CHECK(ComputePodStatus(in).phase() == "Succeeded");
  in.latest["b"] = Exited("b", 1);
  CHECK(ComputePodStatus(in).phase() == "Failed");
}

}  // namespace
}  // namespace reef::agent
