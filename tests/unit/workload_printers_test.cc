// `reefctl get rs` and `get deploy`: kubectl's columns, from the real status.

#include <doctest/doctest.h>

#include "cli/printers.h"

namespace reef::cli {
namespace {

TEST_CASE("get rs: NAME DESIRED CURRENT READY AGE, -o wide adds the template and selector") {
  const manifest::KindInfo* kind = manifest::FindKind("ReplicaSet");
  REQUIRE(kind != nullptr);
  TableOptions o{false, false, absl::FromUnixSeconds(1000)};
  CHECK(TableHeader(*kind, o) == Row{"NAME", "DESIRED", "CURRENT", "READY", "AGE"});
  v1::Object rs;
  v1::ReplicaSet* r = rs.mutable_replica_set();
  r->mutable_metadata()->set_name("web-5d78f6b9c");
  r->mutable_metadata()->set_creation_timestamp("1970-01-01T00:15:40Z");
  r->mutable_spec()->set_replicas(3);
  (*r->mutable_spec()->mutable_selector()->mutable_match_labels())["app"] = "web";
  r->mutable_spec()->mutable_template_()->mutable_spec()->add_containers()->set_name("httpd");
  r->mutable_spec()->mutable_template_()->mutable_spec()->mutable_containers(0)->set_image("busybox:1.36");
  r->mutable_status()->set_replicas(3);
  r->mutable_status()->set_ready_replicas(2);
  CHECK(TableRow(rs, o) == Row{"web-5d78f6b9c", "3", "3", "2", "60s"});
  o.wide = true;
  CHECK(TableHeader(*kind, o) ==
        Row{"NAME", "DESIRED", "CURRENT", "READY", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"});
  CHECK(TableRow(rs, o) == Row{"web-5d78f6b9c", "3", "3", "2", "60s", "httpd", "busybox:1.36", "app=web"});
}

TEST_CASE("get deploy: READY, UP-TO-DATE and AVAILABLE come from the status") {
  TableOptions o{false, false, absl::FromUnixSeconds(1000)};
  v1::Object d;
  d.mutable_deployment()->mutable_metadata()->set_name("web");
  d.mutable_deployment()->mutable_metadata()->set_creation_timestamp("1970-01-01T00:15:40Z");
  d.mutable_deployment()->mutable_spec()->set_replicas(3);
  d.mutable_deployment()->mutable_status()->set_ready_replicas(2);
  d.mutable_deployment()->mutable_status()->set_updated_replicas(1);
  d.mutable_deployment()->mutable_status()->set_available_replicas(2);
  CHECK(TableRow(d, o) == Row{"web", "2/3", "1", "2", "60s"});
}

}  // namespace
}  // namespace reef::cli
