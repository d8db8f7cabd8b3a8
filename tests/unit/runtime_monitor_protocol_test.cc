#include <doctest/doctest.h>

#include "agent/runtime/monitor_protocol.h"

namespace reef::agent::runtime {
namespace {

TEST_CASE("monitor flags round-trip, run prefix included") {
  MonitorOptions o;
  o.id = "pod-app";
  o.bundle = "/b";
  o.runtime = "crun";
  o.runtime_root = "/run/reef/crun";
  o.dir = "/var/lib/reef/monitors/pod-app";
  o.log.path = "/var/log/reef/pod-app.log";
  o.log.max_bytes = 4096;
  o.log.max_files = 2;
  o.sync_fd = 3;
  o.run_prefix = {"unshare", "--mount", "sh", "-c", "exec \"$0\" \"$@\""};
  absl::StatusOr<MonitorOptions> back = MonitorOptions::FromArgs(o.ToArgs());
  REQUIRE(back.ok());
  CHECK(back->id == o.id);
  CHECK(back->bundle == o.bundle);
  CHECK(back->runtime == o.runtime);
  CHECK(back->runtime_root == o.runtime_root);
  CHECK(back->dir == o.dir);
  CHECK(back->log.path == o.log.path);
  CHECK(back->log.max_bytes == 4096);
  CHECK(back->log.max_files == 2);
  CHECK(back->sync_fd == 3);
  CHECK(back->run_prefix == o.run_prefix);
}

TEST_CASE("bad monitor flags name the flag") {
  CHECK(MonitorOptions::FromArgs({"--id=x", "--nope=1"}).status().message() ==
        "unknown flag --nope");
  CHECK(MonitorOptions::FromArgs({"id"}).status().message() == "expected --flag=value, got \"id\"");
  CHECK(MonitorOptions::FromArgs({"--log-max-bytes=lots"}).status().message() ==
        "--log-max-bytes: not a number: lots");
  CHECK(MonitorOptions::FromArgs({"--id=x"}).status().message() == "--bundle is required");
}

TEST_CASE("start reports round-trip") {
  StartReport ok;
  ok.pid = 42;
  ok.started_at = absl::FromUnixNanos(1'796'302'982'123'456'789);
  absl::StatusOr<StartReport> back = ParseStartReport(StartReportToJson(ok));
  REQUIRE(back.ok());
  CHECK(back->error.empty());
  CHECK(back->pid == 42);
  CHECK(back->started_at == ok.started_at);

  StartReport failed;
  failed.error = "exec: \"nope\": executable file not found in $PATH";
  back = ParseStartReport(StartReportToJson(failed));
  REQUIRE(back.ok());
  CHECK(back->error == failed.error);

  CHECK(ParseStartReport("garbage").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseStartReport("{\"pid\":1}").status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace reef::agent::runtime
