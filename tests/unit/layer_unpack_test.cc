// ApplyLayer and the Snapshotter against layer tars built here with libarchive's
// writer: normal trees, whiteouts, compression, hostile layers (each checking that
// nothing appeared outside the destination), limits, and crash safety.

#include <archive.h>
#include <archive_entry.h>
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "agent/image/layer_unpack.h"
#include "agent/image/snapshotter.h"
#include "tests/support/process.h"

namespace reef::agent::image {
namespace {

namespace fs = std::filesystem;
using reef::testing::TempDir;

constexpr time_t kMtime = 1'600'000'000;

// A layer tar, described entry by entry and written with libarchive (pax format, as
// containerd and umoci write layers).
class Tar {
 public:
  enum class Compression { kNone, kGzip, kZstd };

  Tar& File(const std::string& name, const std::string& content, int mode = 0644) {
    return Add({name, AE_IFREG, mode, content});
  }
  Tar& Dir(const std::string& name, int mode = 0755) { return Add({name, AE_IFDIR, mode}); }
  Tar& Symlink(const std::string& name, const std::string& target) {
    return Add({name, AE_IFLNK, 0777, "", target});
  }
  Tar& Hardlink(const std::string& name, const std::string& target) {
    return Add({name, AE_IFREG, 0644, "", "", target});
  }
  Tar& Node(const std::string& name, unsigned type, dev_t rdev = 0) {
    Add({name, type, 0644});
    entries_.back().rdev = rdev;
    return *this;
  }
  // Owner and xattrs of the last entry.
  Tar& Owner(int uid, int gid) {
    entries_.back().uid = uid;
    entries_.back().gid = gid;
    return *this;
  }
  Tar& Xattr(const std::string& name, const std::string& value) {
    entries_.back().xattrs.emplace_back(name, value);
    return *this;
  }

  std::string Write(const std::string& path, Compression compression = Compression::kNone) const {
    archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    int r = compression == Compression::kGzip   ? archive_write_add_filter_gzip(a)
            : compression == Compression::kZstd ? archive_write_add_filter_zstd(a)
                                                : archive_write_add_filter_none(a);
    if (r != ARCHIVE_OK || archive_write_open_filename(a, path.c_str()) != ARCHIVE_OK) {
      throw std::runtime_error(std::string("libarchive writer: ") + archive_error_string(a));
    }
    for (const Entry& e : entries_) {
      archive_entry* entry = archive_entry_new();
      archive_entry_set_pathname(entry, e.name.c_str());
      archive_entry_set_filetype(entry, e.type);
      archive_entry_set_perm(entry, e.mode);
      archive_entry_set_uid(entry, e.uid);
      archive_entry_set_gid(entry, e.gid);
      archive_entry_set_mtime(entry, kMtime, 0);
      archive_entry_set_size(entry, static_cast<la_int64_t>(e.content.size()));
      archive_entry_set_rdev(entry, e.rdev);
      if (!e.symlink.empty()) archive_entry_set_symlink(entry, e.symlink.c_str());
      if (!e.hardlink.empty()) archive_entry_set_hardlink(entry, e.hardlink.c_str());
      for (const auto& [name, value] : e.xattrs) {
        archive_entry_xattr_add_entry(entry, name.c_str(), value.data(), value.size());
      }
      archive_write_header(a, entry);
      archive_write_data(a, e.content.data(), e.content.size());
      archive_entry_free(entry);
    }
    archive_write_close(a);
    archive_write_free(a);
    return path;
  }

 private:
  struct Entry {
    std::string name;
    unsigned type;
    int mode;
    std::string content = {};
    std::string symlink = {};
    std::string hardlink = {};
    int uid = 0;
    int gid = 0;
    dev_t rdev = 0;
    std::vector<std::pair<std::string, std::string>> xattrs = {};
  };
  Tar& Add(Entry e) {
    entries_.push_back(std::move(e));
    return *this;
  }
  std::vector<Entry> entries_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

struct stat Lstat(const std::string& path) {
  struct stat st = {};
  REQUIRE_MESSAGE(::lstat(path.c_str(), &st) == 0, path, ": ", std::strerror(errno));
  return st;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::string GetXattr(const std::string& path, const char* name) {
  char value[256];
  ssize_t n = ::lgetxattr(path.c_str(), name, value, sizeof value);
  return n < 0 ? "" : std::string(value, n);
}

void RequireRoot(const std::string& what) {
  REQUIRE_MESSAGE(::geteuid() == 0, what, " needs root (CAP_MKNOD, CAP_CHOWN, trusted xattrs)");
}

// Every path under root (names, types, sizes, link counts, mtimes), except under `skip`.
std::vector<std::string> Listing(const std::string& root, const std::string& skip) {
  std::vector<std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    if (it->path() == skip) {
      it.disable_recursion_pending();
      continue;
    }
    struct stat st = Lstat(it->path());
    std::ostringstream line;
    line << it->path().string() << " " << std::oct << st.st_mode << std::dec << " " << st.st_size
         << " " << st.st_nlink << " " << st.st_mtim.tv_sec << "." << st.st_mtim.tv_nsec;
    out.push_back(line.str());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A temp folder holding the destination and, beside it, things an attack would touch.
struct Sandbox {
  TempDir tmp;
  std::string dest = tmp.path() + "/dest";
  std::string outside = tmp.path() + "/outside";
  std::string layer = tmp.path() + "/layer.tar";
  Sandbox() {
    fs::create_directories(dest);
    fs::create_directories(outside);
    std::ofstream(outside + "/file") << "keep";
    std::ofstream(tmp.path() + "/x") << "secret";
  }
  // Without root, a read-only folder from a layer would stop TempDir removing its content.
  ~Sandbox() {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(tmp.path(), ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) {
        fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
      }
    }
  }
};

// Makes ApplyLayer resolve paths without openat2 (or with it) for a scope.
struct PathResolution {
  explicit PathResolution(bool fallback) { DisableOpenat2ForTest(fallback); }
  ~PathResolution() { DisableOpenat2ForTest(false); }
};

TEST_CASE("ApplyLayer writes a normal tree: files, modes, folders, links, fifos, xattrs") {
  Sandbox box;
  Tar()
      .Dir("./etc")
      .File("./etc/hello", "hello world\n", 0640)
      .File("bin/tool", "#!/bin/sh\n", 04755)  // parent folder without its own entry
      .Dir("ro", 0555)
      .File("ro/inside", "x")
      .Symlink("etc/link", "hello")
      .Symlink("abs", "/etc/hello")  // stored as is, never followed
      .Hardlink("etc/hard", "etc/hello")
      .Node("run/fifo", AE_IFIFO)
      .File("dup", "first")
      .File("dup", "second")
      .Symlink("was-link", box.outside + "/planted")
      .File("was-link", "a file replaces the symlink, not its target")
      .File("attrs", "").Xattr("user.reef", "1")
      .Write(box.layer);

  auto stats = ApplyLayer(box.layer, box.dest);
  REQUIRE_MESSAGE(stats.ok(), stats.status());
  CHECK(stats->bytes == 12 + 10 + 1 + 5 + 6 + 43);
  CHECK(stats->files == 14);

  const std::string& d = box.dest;
  CHECK(ReadFile(d + "/etc/hello") == "hello world\n");
  CHECK((Lstat(d + "/etc/hello").st_mode & 07777) == 0640);
  CHECK(Lstat(d + "/etc/hello").st_mtime == kMtime);
  CHECK((Lstat(d + "/bin/tool").st_mode & 07777) == 04755);
  CHECK((Lstat(d + "/bin").st_mode & 07777) == 0755);
  CHECK((Lstat(d + "/ro").st_mode & 07777) == 0555);
  CHECK(ReadFile(d + "/ro/inside") == "x");
  CHECK(Lstat(d + "/etc").st_mtime == kMtime);  // set after its children were written
  CHECK(fs::read_symlink(d + "/etc/link") == "hello");
  CHECK(fs::read_symlink(d + "/abs") == "/etc/hello");
  CHECK(Lstat(d + "/etc/hard").st_ino == Lstat(d + "/etc/hello").st_ino);
  CHECK(Lstat(d + "/etc/hello").st_nlink == 2);
  CHECK(S_ISFIFO(Lstat(d + "/run/fifo").st_mode));
  CHECK(ReadFile(d + "/dup") == "second");
  CHECK(S_ISREG(Lstat(d + "/was-link").st_mode));
  CHECK(!Exists(box.outside + "/planted"));
  CHECK(GetXattr(d + "/attrs", "user.reef") == "1");
}

TEST_CASE("ApplyLayer restores owners and device nodes and turns whiteouts into overlayfs's") {
  RequireRoot("owners, device nodes and whiteouts");
  Sandbox box;
  Tar()
      .File("owned", "x", 0600).Owner(1234, 5678)
      .Node("null", AE_IFCHR, makedev(1, 3))
      .File(".wh.gone", "")
      .Dir("opaque").Xattr("trusted.overlay.redirect", "/elsewhere")
      .File("opaque/.wh..wh..opq", "")
      .File("opaque/.wh..wh.plnk", "")  // aufs bookkeeping: skipped
      .Dir("plain").Xattr("trusted.overlay.opaque", "y")  // only whiteouts may do this
      .Write(box.layer);

  auto stats = ApplyLayer(box.layer, box.dest);
  REQUIRE_MESSAGE(stats.ok(), stats.status());
  CHECK(stats->whiteouts == 2);
  CHECK(stats->skipped == 1);
  const std::string& d = box.dest;
  CHECK(Lstat(d + "/owned").st_uid == 1234);
  CHECK(Lstat(d + "/owned").st_gid == 5678);
  CHECK(S_ISCHR(Lstat(d + "/null").st_mode));
  CHECK(Lstat(d + "/null").st_rdev == makedev(1, 3));
  struct stat gone = Lstat(d + "/gone");
  CHECK(S_ISCHR(gone.st_mode));
  CHECK(gone.st_rdev == makedev(0, 0));
  CHECK(!Exists(d + "/.wh.gone"));
  CHECK(GetXattr(d + "/opaque", "trusted.overlay.opaque") == "y");
  CHECK(GetXattr(d + "/opaque", "trusted.overlay.redirect").empty());
  CHECK(!Exists(d + "/opaque/.wh..wh..opq"));
  CHECK(!Exists(d + "/opaque/.wh..wh.plnk"));
  CHECK(GetXattr(d + "/plain", "trusted.overlay.opaque").empty());
}

TEST_CASE("ApplyLayer reads gzip and zstd layers and rejects what is not a tar") {
  Sandbox box;
  for (auto compression : {Tar::Compression::kGzip, Tar::Compression::kZstd}) {
    CAPTURE(static_cast<int>(compression));
    fs::remove_all(box.dest);
    fs::create_directories(box.dest);
    Tar().File("a/b", std::string(100000, 'z')).Write(box.layer, compression);
    CHECK(fs::file_size(box.layer) < 10000);
    auto stats = ApplyLayer(box.layer, box.dest);
    REQUIRE_MESSAGE(stats.ok(), stats.status());
    CHECK(ReadFile(box.dest + "/a/b") == std::string(100000, 'z'));
  }
  std::ofstream(box.layer) << std::string(2000, 'j');
  auto junk = ApplyLayer(box.layer, box.dest);
  CHECK(absl::IsDataLoss(junk.status()));
  CHECK(junk.status().message().find(box.layer) != std::string::npos);
  CHECK(absl::IsNotFound(ApplyLayer(box.tmp.path() + "/missing", box.dest).status()));
}

struct Hostile {
  const char* what;
  std::function<void(Tar&, const Sandbox&)> build;
  std::string refused;           // the entry the error must name; {sandbox} is replaced
  std::string refused_fallback = {};  // when it differs without openat2
};

std::string ExpectedEntry(std::string name, const Sandbox& box) {
  if (size_t at = name.find("{sandbox}"); at != std::string::npos) {
    name.replace(at, 9, box.tmp.path());
  }
  return "entry \"" + name + "\"";
}

TEST_CASE("ApplyLayer refuses hostile layers and writes nothing outside the destination") {
  struct stat passwd_before;
  REQUIRE(::stat("/etc/passwd", &passwd_before) == 0);
  const std::vector<Hostile> cases = {
      {"dot-dot", [](Tar& t, const Sandbox&) { t.File("../evil", "x"); }, "../evil"},
      {"absolute path",
       [](Tar& t, const Sandbox& b) { t.File(b.tmp.path() + "/abs-evil", "x"); },
       "{sandbox}/abs-evil"},
      {"dot-dot after a folder", [](Tar& t, const Sandbox&) { t.File("a/../../evil", "x"); },
       "a/../../evil"},
      {"absolute symlink, then a file through it",
       [](Tar& t, const Sandbox& b) { t.Symlink("link", b.outside).File("link/evil", "x"); },
       "link/evil"},
      {"climbing symlink, then a file through it",
       [](Tar& t, const Sandbox&) {
         t.Dir("sub").Symlink("sub/link", "../../outside").File("sub/link/evil", "x");
       },
       "sub/link/evil"},
      {"chain of symlinks to ..",
       [](Tar& t, const Sandbox&) {
         t.Dir("d").Symlink("d/l1", "..").Symlink("d/l1/l2", "..").File("d/l1/l2/evil", "x");
       },
       "d/l1/l2/evil", "d/l1/l2"},
      {"folder replaced by a symlink, then a file in it",
       [](Tar& t, const Sandbox& b) { t.Dir("a").Symlink("a", b.outside).File("a/evil", "x"); },
       "a/evil"},
      {"whiteout through a symlink",
       [](Tar& t, const Sandbox& b) { t.Symlink("link", b.outside).File("link/.wh.file", ""); },
       "link/.wh.file"},
      {"opaque marker through a symlink",
       [](Tar& t, const Sandbox& b) {
         t.Symlink("link", b.outside).File("link/.wh..wh..opq", "");
       },
       "link/.wh..wh..opq"},
      {"whiteout of ..", [](Tar& t, const Sandbox&) { t.File("a/.wh...", ""); }, "a/.wh..."},
      {"hardlink to /etc/passwd", [](Tar& t, const Sandbox&) { t.Hardlink("pw", "/etc/passwd"); },
       "pw"},
      {"hardlink to ../x", [](Tar& t, const Sandbox&) { t.Hardlink("x", "../x"); }, "x"},
      {"hardlink through an absolute symlink",
       [](Tar& t, const Sandbox&) { t.Symlink("etc", "/etc").Hardlink("pw", "etc/passwd"); },
       "pw"},
  };
  for (bool fallback : {false, true}) {
    PathResolution resolution(fallback);
    for (const Hostile& hostile : cases) {
      CAPTURE(fallback);
      const std::string what = hostile.what;
      CAPTURE(what);
      Sandbox box;
      Tar tar;
      hostile.build(tar, box);
      tar.File("after", "must not be written");
      tar.Write(box.layer);
      const auto before = Listing(box.tmp.path(), box.dest);

      auto stats = ApplyLayer(box.layer, box.dest);
      REQUIRE(!stats.ok());
      CHECK(absl::IsInvalidArgument(stats.status()));
      const std::string refused = ExpectedEntry(fallback && !hostile.refused_fallback.empty()
                                                    ? hostile.refused_fallback
                                                    : hostile.refused,
                                                box);
      CHECK_MESSAGE(std::string(stats.status().message()).find(refused) != std::string::npos,
                    stats.status());
      CHECK(Listing(box.tmp.path(), box.dest) == before);
      CHECK(!Exists(box.dest + "/after"));
    }
  }
  struct stat passwd_after;
  REQUIRE(::stat("/etc/passwd", &passwd_after) == 0);
  CHECK(passwd_after.st_nlink == passwd_before.st_nlink);
}

TEST_CASE("ApplyLayer keeps symlinks that point out as data and links them, never their targets") {
  for (bool fallback : {false, true}) {
    CAPTURE(fallback);
    PathResolution resolution(fallback);
    Sandbox box;
    Tar()
        .Symlink("s", box.outside + "/file")
        .Hardlink("h", "s")  // links the symlink itself
        .Dir("usr/lib")
        .Symlink("lib", "usr/lib")
        .Write(box.layer);
    const auto before = Listing(box.tmp.path(), box.dest);
    auto stats = ApplyLayer(box.layer, box.dest);
    REQUIRE_MESSAGE(stats.ok(), stats.status());
    CHECK(S_ISLNK(Lstat(box.dest + "/h").st_mode));
    CHECK(Listing(box.tmp.path(), box.dest) == before);
  }
}

TEST_CASE("ApplyLayer follows a symlinked folder that stays inside only with openat2") {
  Sandbox box;
  Tar().Dir("usr/lib").Symlink("lib", "usr/lib").File("lib/libx.so", "x").Write(box.layer);
  auto with_openat2 = ApplyLayer(box.layer, box.dest);
  REQUIRE_MESSAGE(with_openat2.ok(), with_openat2.status());
  CHECK(ReadFile(box.dest + "/usr/lib/libx.so") == "x");

  PathResolution resolution(/*fallback=*/true);
  fs::remove_all(box.dest);
  fs::create_directories(box.dest);
  auto without = ApplyLayer(box.layer, box.dest);
  CHECK(absl::IsInvalidArgument(without.status()));
  CHECK(std::string(without.status().message()).find("lib/libx.so") != std::string::npos);
}

TEST_CASE("ApplyLayer enforces its byte and entry limits, naming the entry") {
  Sandbox box;
  Tar().File("small", std::string(600 * 1024, 's')).File("big", std::string(600 * 1024, 'b'))
      .Write(box.layer);
  ApplyOptions options;
  options.max_bytes = 1 << 20;
  auto bytes = ApplyLayer(box.layer, box.dest, options);
  CHECK(absl::IsInvalidArgument(bytes.status()));
  CHECK_MESSAGE(std::string(bytes.status().message()).find("entry \"big\"") != std::string::npos,
                bytes.status());
  CHECK(std::string(bytes.status().message()).find("limit") != std::string::npos);
  CHECK(!Exists(box.dest + "/big"));

  options = {};
  options.max_entries = 1;
  auto entries = ApplyLayer(box.layer, box.dest, options);
  CHECK(absl::IsInvalidArgument(entries.status()));
  CHECK(std::string(entries.status().message()).find("limit of 1 entries") != std::string::npos);
}

// ---- Snapshotter ----

TEST_CASE("ChainId follows the OCI definition") {
  const std::string a = "sha256:ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb";
  const std::string b = "sha256:3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d";
  CHECK(ChainId("", a) == a);
  CHECK(ChainId(a, b) == "sha256:51c0c8ace48498d6f5fee6b0592cc06f2da0f3cbe09c5a34a97dce85c3889676");
}

struct SnapshotFixture {
  TempDir tmp;
  std::string root = tmp.path() + "/snapshots-root";
  std::atomic<int> unpacks{0};
  std::string base_id = "sha256:" + std::string(64, 'a');
  std::string top_id = ChainId(base_id, "sha256:" + std::string(64, 'b'));
  std::string base_blob = tmp.path() + "/base.tar";
  std::string top_blob = tmp.path() + "/top.tar";

  SnapshotFixture() {
    Tar().File("bin/sh", std::string(10000, 'x'), 0755).File("etc/os", "reef").Write(base_blob);
    Tar().File("etc/os", "top").Write(top_blob, Tar::Compression::kGzip);
  }
  std::unique_ptr<Snapshotter> Open(std::function<void()> during_unpack = nullptr) {
    SnapshotterOptions options;
    options.before_unpack_for_test = [this, during_unpack](const std::string&) {
      ++unpacks;
      if (during_unpack) during_unpack();
    };
    auto snapshotter = Snapshotter::Open(root, options);
    REQUIRE_MESSAGE(snapshotter.ok(), snapshotter.status());
    return std::move(*snapshotter);
  }
  std::vector<std::string> TmpEntries() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(root + "/tmp")) names.push_back(e.path());
    return names;
  }
};

TEST_CASE("Snapshotter prepares a chain once, lists it, gives lower dirs top first, removes") {
  SnapshotFixture f;
  auto snapshotter = f.Open();
  auto base = snapshotter->Prepare(f.base_id, "", f.base_blob);
  REQUIRE_MESSAGE(base.ok(), base.status());
  auto top = snapshotter->Prepare(f.top_id, f.base_id, f.top_blob);
  REQUIRE_MESSAGE(top.ok(), top.status());
  CHECK(ReadFile(*base + "/etc/os") == "reef");
  CHECK(ReadFile(*top + "/etc/os") == "top");
  CHECK(f.unpacks == 2);

  auto again = snapshotter->Prepare(f.top_id, f.base_id, f.tmp.path() + "/not-read");
  REQUIRE_MESSAGE(again.ok(), again.status());
  CHECK(*again == *top);
  CHECK(f.unpacks == 2);

  auto lowers = snapshotter->LowerDirs(f.top_id);
  REQUIRE_MESSAGE(lowers.ok(), lowers.status());
  CHECK(*lowers == std::vector<std::string>{*top, *base});

  auto info = snapshotter->Stat(f.base_id);
  REQUIRE_MESSAGE(info.ok(), info.status());
  CHECK(info->usage_bytes >= 10000);
  CHECK(info->inodes == 5);  // fs, bin, bin/sh, etc, etc/os
  CHECK(info->parent.empty());
  auto list = snapshotter->List();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].chain_id == std::min(f.base_id, f.top_id));

  CHECK(absl::IsFailedPrecondition(snapshotter->Remove(f.base_id)));
  CHECK(snapshotter->Remove(f.top_id).ok());
  CHECK(snapshotter->Remove(f.base_id).ok());
  CHECK(absl::IsNotFound(snapshotter->Remove(f.base_id)));
  CHECK(snapshotter->List()->empty());
  CHECK(f.TmpEntries().empty());
  CHECK(absl::IsNotFound(snapshotter->LowerDirs(f.top_id).status()));
}

TEST_CASE("Snapshotter refuses bad chain ids and a missing parent") {
  SnapshotFixture f;
  auto snapshotter = f.Open();
  CHECK(absl::IsInvalidArgument(snapshotter->Prepare("sha256:../../etc", "", f.base_blob).status()));
  CHECK(absl::IsInvalidArgument(snapshotter->Prepare("md5:abc", "", f.base_blob).status()));
  CHECK(absl::IsFailedPrecondition(
      snapshotter->Prepare(f.top_id, f.base_id, f.top_blob).status()));
  CHECK(f.unpacks == 0);
}

TEST_CASE("Snapshotter leaves no half layer: truncated and hostile blobs, crash leftovers") {
  SnapshotFixture f;
  auto snapshotter = f.Open();
  const std::string truncated = f.tmp.path() + "/truncated.tar";
  Tar().File("big", std::string(200000, 'q')).Write(truncated);
  fs::resize_file(truncated, 100000);
  auto bad = snapshotter->Prepare(f.base_id, "", truncated);
  REQUIRE(!bad.ok());
  CHECK(absl::IsDataLoss(bad.status()));
  CHECK(std::string(bad.status().message()).find("prepare " + f.base_id) != std::string::npos);
  CHECK(snapshotter->List()->empty());
  CHECK(f.TmpEntries().empty());

  const std::string hostile = f.tmp.path() + "/hostile.tar";
  Tar().File("ok", "x").File("../evil", "x").Write(hostile);
  CHECK(absl::IsInvalidArgument(snapshotter->Prepare(f.base_id, "", hostile).status()));
  CHECK(snapshotter->List()->empty());
  CHECK(!Exists(f.root + "/snapshots/evil"));

  auto good = snapshotter->Prepare(f.base_id, "", f.base_blob);
  REQUIRE_MESSAGE(good.ok(), good.status());
  CHECK(ReadFile(*good + "/etc/os") == "reef");

  // What a crash mid-unpack leaves is cleared by the next Open.
  snapshotter.reset();
  fs::create_directories(f.root + "/tmp/" + std::string(64, 'c') + "-XXXXXX/fs/half");
  snapshotter = f.Open();
  CHECK(f.TmpEntries().empty());
  CHECK(snapshotter->List()->size() == 1);
}

TEST_CASE("Snapshotter unpacks once when many threads prepare the same layer") {
  SnapshotFixture f;
  // The first unpack lingers so that the others arrive while it runs.
  auto snapshotter = f.Open([] { std::this_thread::sleep_for(std::chrono::milliseconds(100)); });
  constexpr int kThreads = 8;
  std::vector<absl::StatusOr<std::string>> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] { results[i] = snapshotter->Prepare(f.base_id, "", f.base_blob); });
  }
  for (auto& t : threads) t.join();
  CHECK(f.unpacks == 1);
  for (const auto& result : results) {
    REQUIRE_MESSAGE(result.ok(), result.status());
    CHECK(*result == *results[0]);
  }
}

}  // namespace
}  // namespace reef::agent::image
