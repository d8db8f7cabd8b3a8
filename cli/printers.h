#pragma once
// `reefctl get` tables: kubectl's columns for each kind, kubectl's spacing.

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "api/manifest/object.h"

namespace reef::cli {

struct TableOptions {
  bool wide = false;            // -o wide
  bool with_namespace = false;  // -A: a NAMESPACE column first
  absl::Time now;
};

using Row = std::vector<std::string>;

Row TableHeader(const manifest::KindInfo& kind, const TableOptions& options);
Row TableRow(const reef::v1::Object& object, const TableOptions& options);

// Left-aligned columns separated by three spaces, as kubectl prints them. Column
// widths grow as rows are added; Format() pads one row to the current widths, so
// that `get -w` can print rows one at a time under the header.
class Table {
 public:
  void Add(Row row);
  std::string Render() const;
  std::string Format(const Row& row) const;
  void Widen(const Row& row);

 private:
  std::vector<Row> rows_;
  std::vector<size_t> widths_;
};

// kubectl's pod STATUS column: the most telling reason (CrashLoopBackOff, Completed,
// OOMKilled, ...) rather than the bare phase.
std::string PodStatusText(const reef::v1::Pod& pod);

// kubectl's node STATUS: Ready, NotReady, or Unknown when the node has no Ready
// condition; then ",SchedulingDisabled" when it is cordoned.
std::string NodeStatusText(const reef::v1::Node& node);

// kubectl's node ROLES: the <role> of each node-role.kubernetes.io/<role> label and
// the value of kubernetes.io/role, sorted and comma-separated; "" when there are none.
std::string NodeRoles(const reef::v1::ObjectMeta& meta);

}  // namespace reef::cli
