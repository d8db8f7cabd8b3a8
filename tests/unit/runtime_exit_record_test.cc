#include <doctest/doctest.h>
#include <sys/wait.h>

#include <fstream>

#include "agent/runtime/exit_record.h"
#include "tests/support/process.h"

namespace reef::agent::runtime {
namespace {

// waitpid statuses as the kernel encodes them.
int Exited(int code) { return code << 8; }
int Signaled(int sig) { return sig; }

TEST_CASE("the reason follows the exit: Completed, Error, OOMKilled") {
  ExitRecord ok = RecordFromWaitStatus(Exited(0), false);
  CHECK(ok.exit_code == 0);
  CHECK(ok.signal == 0);
  CHECK(ok.reason == "Completed");

  ExitRecord failed = RecordFromWaitStatus(Exited(3), false);
  CHECK(failed.exit_code == 3);
  CHECK(failed.reason == "Error");

  ExitRecord killed = RecordFromWaitStatus(Signaled(SIGKILL), false);
  CHECK(killed.exit_code == 137);
  CHECK(killed.signal == 9);
  CHECK(killed.reason == "Error");

  CHECK(RecordFromWaitStatus(Signaled(SIGKILL), true).reason == "OOMKilled");
  // A child of init was OOM-killed and init carried on: still OOMKilled, as containerd.
  CHECK(RecordFromWaitStatus(Exited(0), true).reason == "OOMKilled");
}

TEST_CASE("a record survives the file round trip exactly") {
  reef::testing::TempDir dir;
  ExitRecord record = RecordFromWaitStatus(Exited(3), false);
  record.pid = 4242;
  record.started_at = absl::FromUnixNanos(1'796'302'982'123'456'789);
  record.finished_at = record.started_at + absl::Milliseconds(1500);
  record.message = "bad \xff byte";  // not UTF-8: replaced, not a crash
  std::string path = dir.path() + "/exit.json";
  REQUIRE(WriteExitRecord(path, record).ok());
  absl::StatusOr<ExitRecord> read = ReadExitRecord(path);
  REQUIRE(read.ok());
  CHECK(read->exit_code == 3);
  CHECK(read->reason == "Error");
  CHECK(read->pid == 4242);
  CHECK(read->started_at == record.started_at);
  CHECK(read->finished_at == record.finished_at);
  CHECK(read->message == "bad \xef\xbf\xbd byte");
}

TEST_CASE("no file is NotFound and a damaged one is an error naming the file") {
  reef::testing::TempDir dir;
  std::string path = dir.path() + "/exit.json";
  CHECK(ReadExitRecord(path).status().code() == absl::StatusCode::kNotFound);
  std::ofstream(path) << "{\"exit_code\": 1}";
  absl::Status s = ReadExitRecord(path).status();
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(s.message()).starts_with(path + ": exit record: "));
  CHECK(ParseExitRecord("not json").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseExitRecord(R"({"exit_code":0,"signal":0,"reason":"Completed",)"
                        R"("started_at":"soon","finished_at":"2026-12-03T13:03:02Z"})")
            .status()
            .code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace reef::agent::runtime
