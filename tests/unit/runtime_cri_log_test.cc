#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_format.h"
#include "agent/runtime/cri_log.h"
#include "tests/support/process.h"

namespace reef::agent::runtime {
namespace {

using Strings = std::vector<std::string>;

Strings Lines(const std::string& path) {
  std::ifstream in(path);
  Strings out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

struct Fixture {
  reef::testing::TempDir dir;
  FakeClock clock{
      absl::FromUnixNanos(1'796'302'982'123'456'789)};  // 2026-12-03T13:03:02.123456789Z
  LogOptions options;
  std::unique_ptr<CriLogWriter> writer;

  explicit Fixture(int64_t max_bytes = 1 << 20, int max_files = 3) {
    options.path = dir.path() + "/logs/app/0.log";  // the folder is created
    options.max_bytes = max_bytes;
    options.max_files = max_files;
    Open();
  }
  void Open() {
    absl::StatusOr<std::unique_ptr<CriLogWriter>> w = CriLogWriter::Open(options, clock);
    INFO(w.status().ToString());
    REQUIRE(w.ok());
    writer = *std::move(w);
  }
  void Write(LogStream stream, std::string_view data) { REQUIRE(writer->Write(stream, data).ok()); }
};

TEST_CASE("each line is one record with a nanosecond UTC timestamp, stream and F tag") {
  Fixture f;
  f.Write(LogStream::kStdout, "hello\nworld\n");
  f.clock.Advance(absl::Milliseconds(1));
  f.Write(LogStream::kStderr, "oops\n\n");
  CHECK(Lines(f.options.path) == Strings{
                                     "2026-12-03T13:03:02.123456789Z stdout F hello",
                                     "2026-12-03T13:03:02.123456789Z stdout F world",
                                     "2026-12-03T13:03:02.124456789Z stderr F oops",
                                     "2026-12-03T13:03:02.124456789Z stderr F ",
                                 });
  CHECK(FormatCriTimestamp(absl::FromUnixSeconds(0)) == "1970-01-01T00:00:00.000000000Z");
}

TEST_CASE("a piece without its newline is a P record and the rest of the line follows") {
  Fixture f;
  f.Write(LogStream::kStdout, "Password: ");
  f.Write(LogStream::kStdout, "ok\nnext");
  Strings lines = Lines(f.options.path);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].ends_with(" stdout P Password: "));
  CHECK(lines[1].ends_with(" stdout F ok"));
  CHECK(lines[2].ends_with(" stdout P next"));
}

TEST_CASE("records parse back") {
  absl::StatusOr<CriRecord> r = ParseCriRecord("2026-12-03T13:03:02.123456789Z stderr P a b ");
  REQUIRE(r.ok());
  CHECK(r->time == absl::FromUnixNanos(1'796'302'982'123'456'789));
  CHECK(r->stream == LogStream::kStderr);
  CHECK(r->partial);
  CHECK(r->content == "a b ");
  CHECK(ParseCriRecord("2026-12-03T13:03:02Z stdout F ")->content.empty());
  for (const char* bad : {"", "nonsense", "2026-12-03T13:03:02Z stdin F x",
                          "2026-12-03T13:03:02Z stdout X x", "yesterday stdout F x"}) {
    CHECK(ParseCriRecord(bad).status().code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("files rotate at the cap and only max_files are kept") {
  Fixture f(/*max_bytes=*/200, /*max_files=*/3);
  // Each record is 30 + 8 + 2 + 9 + 1 = 50 bytes: four fit in a file.
  for (int i = 0; i < 20; ++i) f.Write(LogStream::kStdout, absl::StrFormat("line-%03d\n", i));
  CHECK(Lines(f.options.path) == Strings{
                                     "2026-12-03T13:03:02.123456789Z stdout F line-016",
                                     "2026-12-03T13:03:02.123456789Z stdout F line-017",
                                     "2026-12-03T13:03:02.123456789Z stdout F line-018",
                                     "2026-12-03T13:03:02.123456789Z stdout F line-019",
                                 });
  CHECK(Lines(RotatedLogPath(f.options.path, 1)).front().ends_with("line-012"));
  CHECK(Lines(RotatedLogPath(f.options.path, 2)).front().ends_with("line-008"));
  CHECK_FALSE(std::filesystem::exists(RotatedLogPath(f.options.path, 3)));
  for (int i = 0; i < 3; ++i) {
    CHECK(std::filesystem::file_size(RotatedLogPath(f.options.path, i)) <= 200);
  }
}

TEST_CASE("a line longer than the cap is split into P records that each fit") {
  Fixture f(/*max_bytes=*/100, /*max_files=*/5);
  f.Write(LogStream::kStdout, std::string(150, 'x') + "\n");
  std::string joined;
  int files = 0;
  for (int i = 4; i >= 0; --i) {
    std::string path = RotatedLogPath(f.options.path, i);
    if (!std::filesystem::exists(path)) continue;
    ++files;
    CHECK(std::filesystem::file_size(path) <= 100);
    for (const std::string& line : Lines(path)) {
      absl::StatusOr<CriRecord> r = ParseCriRecord(line);
      REQUIRE(r.ok());
      joined += r->content;
      if (!r->partial) joined += "\n";
    }
  }
  CHECK(files >= 3);
  CHECK(joined == std::string(150, 'x') + "\n");
}

TEST_CASE("reopening appends and counts what is already there") {
  Fixture f(/*max_bytes=*/120, /*max_files=*/2);
  f.Write(LogStream::kStdout, "line-000\nline-001\n");
  f.Open();
  f.Write(LogStream::kStdout, "line-002\n");  // 150 bytes would pass the cap: rotates
  CHECK(Lines(f.options.path).size() == 1);
  CHECK(Lines(RotatedLogPath(f.options.path, 1)).size() == 2);
}

TEST_CASE("bad options are refused") {
  LogOptions options;
  CHECK(CriLogWriter::Open(options).status().code() == absl::StatusCode::kInvalidArgument);
  options.path = "/tmp/x.log";
  options.max_files = 0;
  CHECK(CriLogWriter::Open(options).status().code() == absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace reef::agent::runtime
