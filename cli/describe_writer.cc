#include "cli/describe_writer.h"

#include <algorithm>

#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/strings.h"

namespace reef::cli::describe {
namespace {

constexpr size_t kPadding = 2;
// kubectl shortens annotation values past this many characters.
constexpr size_t kMaxAnnotationLen = 140;
// A copy of the whole manifest that kubectl-style tools leave behind: noise, and for a
// Secret it would print the values. kubectl skips it too.
constexpr std::string_view kLastApplied = "kubectl.kubernetes.io/last-applied-configuration";

// Width on a terminal, counted in code points as Go's tabwriter does.
size_t CellWidth(std::string_view cell) {
  return std::count_if(cell.begin(), cell.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

bool HasColumn(const std::vector<std::string>& line, size_t column) {
  return column + 1 < line.size();
}

std::string Shorten(std::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  return reef::StrCat(s.substr(0, max), "...");
}

}  // namespace

void DescribeWriter::Line(int level, std::vector<std::string> cells) {
  if (cells.empty()) cells.emplace_back();
  cells[0].insert(0, static_cast<size_t>(2 * level), ' ');
  lines_.push_back(std::move(cells));
}

void DescribeWriter::Field(int level, std::string_view key, std::string_view value) {
  Line(level, {reef::StrCat(key, ":"), OrNone(value)});
}

void DescribeWriter::Heading(int level, std::string_view title) {
  Line(level, {reef::StrCat(title, ":")});
}

void DescribeWriter::Text(std::string_view text) {
  for (absl::string_view part : absl::StrSplit(ToAbsl(text), '\n')) {
    lines_.push_back({std::string(part)});
  }
}

std::string DescribeWriter::Render() const {
  std::string out;
  std::vector<size_t> widths;
  Format(0, lines_.size(), widths, out);
  return out;
}

// Go's text/tabwriter format(): find each run of lines that have column
// `widths.size()`, size that column over the run, then recurse for the next column
// within the run. Lines outside any run are written with the widths known so far.
void DescribeWriter::Format(size_t line0, size_t line1, std::vector<size_t>& widths,
                            std::string& out) const {
  const size_t column = widths.size();
  for (size_t i = line0; i < line1; ++i) {
    if (!HasColumn(lines_[i], column)) continue;
    WriteLines(line0, i, widths, out);
    line0 = i;
    size_t width = 0;
    for (; i < line1 && HasColumn(lines_[i], column); ++i) {
      width = std::max(width, CellWidth(lines_[i][column]) + kPadding);
    }
    widths.push_back(width);
    Format(line0, i, widths, out);
    widths.pop_back();
    line0 = i;
  }
  WriteLines(line0, line1, widths, out);
}

void DescribeWriter::WriteLines(size_t line0, size_t line1, const std::vector<size_t>& widths,
                                std::string& out) const {
  for (size_t i = line0; i < line1; ++i) {
    const std::vector<std::string>& line = lines_[i];
    for (size_t j = 0; j < line.size(); ++j) {
      out += line[j];
      if (j < widths.size()) out.append(widths[j] - CellWidth(line[j]), ' ');
    }
    out += '\n';
  }
}

std::string DescribeTime(std::string_view rfc3339) {
  if (rfc3339.empty()) return std::string(kNone);
  absl::StatusOr<absl::Time> t = ParseTimestamp(rfc3339);
  if (!t.ok()) return std::string(rfc3339);
  return absl::FormatTime("%a, %d %b %Y %H:%M:%S %z", *t, absl::UTCTimeZone());
}

std::map<std::string, std::string> Sorted(
    const google::protobuf::Map<std::string, std::string>& map) {
  return std::map<std::string, std::string>(map.begin(), map.end());
}

std::string FormatLabels(const google::protobuf::Map<std::string, std::string>& labels) {
  std::string out;
  for (const auto& [k, v] : Sorted(labels)) {
    absl::StrAppend(&out, out.empty() ? "" : ",", k, "=", v);
  }
  return OrNone(out);
}

void MultilineField(DescribeWriter& w, int level, std::string_view title,
                    const std::vector<std::string>& entries) {
  if (entries.empty()) {
    w.Field(level, title, "");
    return;
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    w.Line(level, {i == 0 ? reef::StrCat(title, ":") : "", entries[i]});
  }
}

void LabelsField(DescribeWriter& w, int level, std::string_view title,
                 const google::protobuf::Map<std::string, std::string>& labels) {
  std::vector<std::string> entries;
  for (const auto& [k, v] : Sorted(labels)) entries.push_back(reef::StrCat(k, "=", v));
  MultilineField(w, level, title, entries);
}

void AnnotationsField(DescribeWriter& w, int level, std::string_view title,
                      const google::protobuf::Map<std::string, std::string>& annotations) {
  std::vector<std::string> entries;
  for (const auto& [key, raw] : Sorted(annotations)) {
    if (key == kLastApplied) continue;
    std::string_view value = raw;
    if (!value.empty() && value.back() == '\n') value.remove_suffix(1);
    if (key.size() + value.size() + 2 > kMaxAnnotationLen ||
        value.find('\n') != std::string_view::npos) {
      entries.push_back(reef::StrCat(key, ":"));
      for (absl::string_view part : absl::StrSplit(ToAbsl(value), '\n')) {
        entries.push_back(reef::StrCat("  ", Shorten(ToStd(part), kMaxAnnotationLen - 2)));
      }
    } else {
      entries.push_back(reef::StrCat(key, ": ", value));
    }
  }
  MultilineField(w, level, title, entries);
}

void ResourceList(DescribeWriter& w, int level, std::string_view title,
                  const google::protobuf::Map<std::string, std::string>& resources) {
  if (resources.empty()) {
    w.Field(level, title, "");
    return;
  }
  w.Heading(level, title);
  for (const auto& [name, quantity] : Sorted(resources)) w.Field(level + 1, name, quantity);
}

}  // namespace reef::cli::describe
