#include <doctest/doctest.h>

#include "agent/runtime/runc_output.h"

namespace reef::agent::runtime {
namespace {

constexpr char kState[] = R"({
  "ociVersion": "1.0.2-dev",
  "id": "pod1-app",
  "pid": 4242,
  "status": "running",
  "bundle": "/var/lib/reef/agent/bundles/pod1-app",
  "rootfs": "/var/lib/reef/agent/bundles/pod1-app/rootfs",
  "created": "2026-12-03T14:02:32.6063795Z",
  "owner": "",
  "annotations": {"io.kubernetes.pod.name": "web"}
})";

TEST_CASE("runc state parses, with its 7-digit fraction and annotations") {
  absl::StatusOr<ContainerState> s = ParseRuncState(kState);
  REQUIRE(s.ok());
  CHECK(s->id == "pod1-app");
  CHECK(s->status == OciStatus::kRunning);
  CHECK(s->pid == 4242);
  CHECK(s->bundle == "/var/lib/reef/agent/bundles/pod1-app");
  CHECK(s->created == absl::FromUnixNanos(1'796'306'552'606'379'500));
  CHECK(s->annotations.at("io.kubernetes.pod.name") == "web");
  CHECK(OciStatusName(s->status) == "running");
}

TEST_CASE("runc list parses, null meaning none") {
  absl::StatusOr<std::vector<ContainerState>> none = ParseRuncList("null");
  REQUIRE(none.ok());
  CHECK(none->empty());
  absl::StatusOr<std::vector<ContainerState>> two = ParseRuncList(
      R"([{"id":"a","pid":0,"status":"stopped","bundle":"/b","created":"2026-12-03T14:02:32Z"},
          {"id":"b","pid":7,"status":"created","bundle":"/c","created":"2026-12-03T14:02:33Z"}])");
  REQUIRE(two.ok());
  REQUIRE(two->size() == 2);
  CHECK((*two)[0].status == OciStatus::kStopped);
  CHECK((*two)[1].status == OciStatus::kCreated);
}

TEST_CASE("malformed runc output is an error, not an exception") {
  CHECK(ParseRuncState("{").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseRuncState(R"({"id":"a","status":"dancing","created":"2026-12-03T14:02:32Z"})")
            .status()
            .message() == "runc state: unknown status \"dancing\"");
  CHECK(ParseRuncList(R"([{"id":"a"}])").status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("runc errors become Status codes with runc's message") {
  absl::Status gone = RuncError(
      "state x",
      R"({"level":"error","msg":"container does not exist","time":"2026-12-03T14:02:35Z"})"
      "\n",
      1);
  CHECK(gone.code() == absl::StatusCode::kNotFound);
  CHECK(gone.message() == "state x: container does not exist");
  CHECK(RuncError("kill x", R"({"level":"error","msg":"container not running"})", 1).code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(RuncError(
            "delete x",
            R"({"level":"error","msg":"cannot delete container x that is not stopped: running"})",
            1)
            .code() == absl::StatusCode::kFailedPrecondition);
  CHECK(RuncError("run x", "container with id exists: x\n", 1).code() ==
        absl::StatusCode::kAlreadyExists);
  // crun's wording.
  CHECK(
      RuncError(
          "state x",
          R"({"msg":"error opening file `/run/crun/x/status`: No such file or directory","level":"error"})",
          1)
          .code() == absl::StatusCode::kNotFound);
  CHECK(RuncError("delete x",
                  R"({"msg":"the container `x` is not in `created` or `stopped` state"})", 1)
            .code() == absl::StatusCode::kFailedPrecondition);
  CHECK(RuncError("kill x", "kill container: No such process", 1).code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(RuncError("run x", R"({"msg":"container `x` already exists"})", 1).code() ==
        absl::StatusCode::kAlreadyExists);
  absl::Status other = RuncError("list", "", 2);
  CHECK(other.code() == absl::StatusCode::kInternal);
  CHECK(other.message() == "list: exited with status 2");
}

}  // namespace
}  // namespace reef::agent::runtime
