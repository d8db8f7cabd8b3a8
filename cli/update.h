#pragma once
// Read-modify-write of one object, safe against concurrent writers (an agent
// reporting status, another reefctl): the object is read, changed in memory, and
// written back conditioned on the resourceVersion it was read at. When someone wrote
// in between, the write is refused as a conflict and the whole cycle runs again on a
// fresh read.

#include <functional>
#include <string>
#include <string_view>

#include "cli/client.h"

namespace reef::cli {

// Changes `object` in place. Returns whether it changed anything (nothing is written
// when it did not), or an error that ends the update and is returned as it is. It may
// run several times, each time on a freshly read object.
using Mutation = std::function<absl::StatusOr<bool>(reef::v1::Object& object)>;

struct UpdateResult {
  reef::v1::Object object;  // as stored after the write, or as read when unchanged
  bool changed = false;
};

// Reads KIND NS/NAME, applies `mutate`, and writes the result back with the
// resourceVersion it read. Retries a few times on conflict, then fails with Aborted.
absl::StatusOr<UpdateResult> UpdateObject(Client& client, std::string_view kind,
                                          const std::string& ns, const std::string& name,
                                          const Mutation& mutate);

}  // namespace reef::cli
