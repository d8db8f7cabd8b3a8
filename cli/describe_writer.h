#pragma once
// The line writer behind `reefctl describe`, and the small formatting helpers every
// kind's section shares. Internal to reefctl: the public entry point is
// cli/describe_printer.h.
//
// Alignment follows kubectl, which writes its describe output through Go's
// text/tabwriter (padding 2): a line is a list of cells; every cell but the last
// belongs to a column, and a column is as wide as its widest cell over a run of
// consecutive lines that have that column. A line with a single cell ("Containers:")
// ends the run. So keys line up across nested sections until a heading interrupts
// them, exactly as a kubectl user is used to reading.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "google/protobuf/map.h"

namespace reef::cli::describe {

class DescribeWriter {
 public:
  // One line, indented by `level` (2 spaces each). Each cell but the last is padded to
  // its column's width plus 2. Cells may be empty (a continuation line starts with an
  // empty cell to line its value up under the previous key's value).
  void Line(int level, std::vector<std::string> cells);

  // "Key:  value"; an empty value prints as <none>.
  void Field(int level, std::string_view key, std::string_view value);

  // "Title:" alone: opens a nested section and ends the current alignment run.
  void Heading(int level, std::string_view title);

  // Text printed as it is, one line per '\n'-separated part, never aligned (the values
  // of a ConfigMap, which may hold anything, tabs included).
  void Text(std::string_view text);

  void Blank() { lines_.push_back({""}); }

  std::string Render() const;

 private:
  using Cells = std::vector<std::string>;

  void Format(size_t line0, size_t line1, std::vector<size_t>& widths, std::string& out) const;
  void WriteLines(size_t line0, size_t line1, const std::vector<size_t>& widths,
                  std::string& out) const;

  std::vector<Cells> lines_;
};

inline constexpr std::string_view kNone = "<none>";

inline std::string OrNone(std::string_view s) { return std::string(s.empty() ? kNone : s); }

// kubectl's RFC 1123 form of an RFC 3339 timestamp: "Thu, 03 Dec 2026 13:03:02 +0000".
// <none> when empty; the text unchanged when it does not parse.
std::string DescribeTime(std::string_view rfc3339);

// A protobuf map's entries in key order (protobuf maps have no order of their own).
std::map<std::string, std::string> Sorted(
    const google::protobuf::Map<std::string, std::string>& map);

// "a=1,b=2" in key order, or <none>: kubectl's labels.FormatLabels.
std::string FormatLabels(const google::protobuf::Map<std::string, std::string>& labels);

// "Title:  k1=v1" then one continuation line per further label, values aligned; <none>
// when empty. `entries` are printed in order; each is already "k=v" or similar.
void MultilineField(DescribeWriter& w, int level, std::string_view title,
                    const std::vector<std::string>& entries);
void LabelsField(DescribeWriter& w, int level, std::string_view title,
                 const google::protobuf::Map<std::string, std::string>& labels);
// "key: value"; long or multi-line values go on their own lines below the key, as
// kubectl prints them. kubectl's last-applied-configuration is left out.
void AnnotationsField(DescribeWriter& w, int level, std::string_view title,
                      const google::protobuf::Map<std::string, std::string>& annotations);

// "Title:" then "  name:  quantity" per resource in name order; "Title:  <none>" when
// empty.
void ResourceList(DescribeWriter& w, int level, std::string_view title,
                  const google::protobuf::Map<std::string, std::string>& resources);

}  // namespace reef::cli::describe
