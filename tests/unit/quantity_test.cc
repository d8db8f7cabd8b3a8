#include "api/manifest/quantity.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace reef::manifest {
namespace {

// Parses text that must be valid; fails the test (and returns zero) otherwise.
Quantity Q(std::string_view text) {
  absl::StatusOr<Quantity> q = Quantity::Parse(text);
  INFO("parsing ", std::string(text), ": ", q.status().ToString());
  REQUIRE(q.ok());
  return *q;
}

// Parses text that must be invalid; returns the error message.
std::string Error(std::string_view text) {
  absl::StatusOr<Quantity> q = Quantity::Parse(text);
  INFO("parsing ", std::string(text));
  REQUIRE_FALSE(q.ok());
  CHECK(q.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(q.status().message());
}

TEST_CASE("Quantity parses plain and fractional numbers") {
  CHECK(Q("0").Value() == 0);
  CHECK(Q("1").Value() == 1);
  CHECK(Q("1").MilliValue() == 1000);
  CHECK(Q("+7").Value() == 7);
  CHECK(Q("0.5").MilliValue() == 500);
  CHECK(Q(".5").MilliValue() == 500);
  CHECK(Q("5.").MilliValue() == 5000);
  CHECK(Q("007").Value() == 7);
  CHECK(Q("1.250").MilliValue() == 1250);
  CHECK(Q("123456789").Value() == 123456789);
}

TEST_CASE("Quantity parses decimal suffixes") {
  CHECK(Q("1n").MilliValue() == 1);  // rounded up
  CHECK(Q("1000000n").MilliValue() == 1);
  CHECK(Q("1500u").MilliValue() == 2);
  CHECK(Q("250m").MilliValue() == 250);
  CHECK(Q("1k").Value() == 1000);
  CHECK(Q("1M").Value() == 1000000);
  CHECK(Q("1G").Value() == 1000000000);
  CHECK(Q("2T").Value() == 2000000000000);
  CHECK(Q("3P").Value() == 3000000000000000);
  CHECK(Q("0.001E").Value() == 1000000000000000);
  CHECK(Q("1.5k").Value() == 1500);
  CHECK(Q("5.G").Value() == 5000000000);
}

TEST_CASE("Quantity parses binary suffixes") {
  CHECK(Q("1Ki").Value() == 1024);
  CHECK(Q("64Mi").Value() == 64 * 1024 * 1024);
  CHECK(Q("1Gi").Value() == int64_t{1} << 30);
  CHECK(Q("1Ti").Value() == int64_t{1} << 40);
  CHECK(Q("1Pi").Value() == int64_t{1} << 50);
  CHECK(Q("0.5Ki").Value() == 512);
  CHECK(Q("1.5Gi").Value() == 1610612736);
  CHECK(Q("0.001Ki").MilliValue() == 1024);
  CHECK(Q("0.0001Ki").MilliValue() == 103);  // 102.4m, rounded up
  CHECK(Q("0.000000000001Ki").MilliValue() == 1);
  CHECK(Q("0.001Ei").Value() == 1152921504606847);  // 1152921504606846.976
}

TEST_CASE("Quantity parses decimal exponents") {
  CHECK(Q("1e3").Value() == 1000);
  CHECK(Q("1E3").Value() == 1000);
  CHECK(Q("1e+3").Value() == 1000);
  CHECK(Q("12E-3").MilliValue() == 12);
  CHECK(Q("1.5e2").Value() == 150);
  CHECK(Q("1e0").Value() == 1);
  CHECK(Q("1e-9").MilliValue() == 1);
  CHECK(Q("25e-2").MilliValue() == 250);
  CHECK(Q("0e999999999999999999999").IsZero());
  CHECK(Q("1e-999999999999999999999").MilliValue() == 1);
}

TEST_CASE("Quantity keeps negative values and reports them") {
  Quantity q = Q("-250m");
  CHECK(q.IsNegative());
  CHECK(q.MilliValue() == -250);
  CHECK(Q("-1Ki").Value() == -1024);
  CHECK(Q("-1e3").Value() == -1000);
  CHECK_FALSE(Q("1").IsNegative());
  CHECK_FALSE(Q("-0").IsNegative());
  CHECK(Q("-0") == Q("0"));
}

TEST_CASE("Quantity rounds MilliValue and Value up like Kubernetes") {
  CHECK(Q("1.1").Value() == 2);
  CHECK(Q("1.0").Value() == 1);
  CHECK(Q("1m").Value() == 1);
  CHECK(Q("999m").Value() == 1);
  CHECK(Q("1001m").Value() == 2);
  CHECK(Q("0.0001").MilliValue() == 1);
  CHECK(Q("1.0001").MilliValue() == 1001);
  CHECK(Q("100u").MilliValue() == 1);
  // Up means towards +infinity, so negatives move towards zero.
  CHECK(Q("-1.5").Value() == -1);
  CHECK(Q("-1500u").MilliValue() == -1);
  CHECK(Q("-0.0001").MilliValue() == 0);
}

TEST_CASE("Quantity rounds sub-nano values away from zero to 1n") {
  CHECK(Q("0.1n") == Q("1n"));
  CHECK(Q("1.5n") == Q("2n"));
  CHECK(Q("-0.1n") == Q("-1n"));
  CHECK(Q("0.0000000001") == Q("1n"));
  CHECK(Q("0.1n") > Q("0"));
  // Many digits beyond nano precision are still handled exactly.
  CHECK(Q("1.0000000000000000000000000000000000000000000001") == Q("1000000001n"));
  CHECK(Q("1.0000000000000000000000000000000000000000000000") == Q("1"));
  CHECK(Q("0.0000000000000000000000000000000000000000000001Ki") == Q("1n"));
}

TEST_CASE("Quantity compares exactly") {
  CHECK(Q("1Gi") > Q("1G"));
  CHECK(Q("1G") < Q("1Gi"));
  CHECK(Q("0.5") == Q("500m"));
  CHECK(Q("1e3") == Q("1k"));
  CHECK(Q("1Ki") == Q("1024"));
  CHECK(Q("1Ki") != Q("1k"));
  CHECK(Q("1000m") == Q("1"));
  CHECK(Q("1e-3") == Q("1m"));
  CHECK(Q("1000000000n") == Q("1"));
  CHECK(Q("1000000001n") > Q("1"));  // differs only below milli precision
  CHECK(Q("999999999n") < Q("1"));
  CHECK(Q("-1") < Q("0"));
  CHECK(Q("-1Gi") < Q("-1G"));
  CHECK(Q("1.5Gi") == Q("1536Mi"));
  CHECK(Q("8Pi") == Q("8192Ti"));
  CHECK(Q("100m") <= Q("0.1"));
  CHECK(Q("100m") >= Q("0.1"));
  CHECK((Q("2") <=> Q("1")) == std::strong_ordering::greater);
}

TEST_CASE("Quantity::ToString returns the original text") {
  CHECK(Q("500m").ToString() == "500m");
  CHECK(Q("0.5").ToString() == "0.5");
  CHECK(Q("+1e3").ToString() == "+1e3");
  CHECK(Q("007Ki").ToString() == "007Ki");
  CHECK(Quantity().ToString() == "0");
  CHECK(Quantity().IsZero());
  CHECK(Quantity() == Q("0"));
}

TEST_CASE("Quantity accepts the largest representable magnitude") {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  CHECK(Q("9223372036854775807m").MilliValue() == kMax);
  CHECK(Q("-9223372036854775807m").MilliValue() == -kMax);
  CHECK(Q("9223372036854775806.0000001m").MilliValue() == kMax);
  CHECK(Q("9223372036854775.807").Value() == 9223372036854776);
  CHECK(Q("8Pi").MilliValue() == (int64_t{1} << 53) * 1000);
  CHECK(Q("9.223372036854775807e15").MilliValue() == kMax);
}

TEST_CASE("Quantity rejects magnitudes too large to represent") {
  CHECK(Error("100Ei") ==
        "quantity \"100Ei\": magnitude too large; the largest supported is "
        "9223372036854775807m (about 8Pi)");
  CHECK(Error("9223372036854775808m").find("too large") != std::string::npos);
  CHECK(Error("9223372036854775807.000001m").find("too large") != std::string::npos);
  CHECK(Error("-9223372036854775808m").find("too large") != std::string::npos);
  CHECK(Error("8Ei").find("too large") != std::string::npos);
  CHECK(Error("10P").find("too large") != std::string::npos);
  CHECK(Error("1e16").find("too large") != std::string::npos);
  CHECK(Error("1e999999999999999999999").find("too large") != std::string::npos);
  CHECK(Error("99999999999999999999999999999999999999999999").find("too large") !=
        std::string::npos);
}

TEST_CASE("Quantity rejects malformed text with messages quoting the input") {
  CHECK(Error("") == "quantity \"\": empty");
  CHECK(Error("64MB") ==
        "quantity \"64MB\": unknown suffix \"MB\" (use e.g. 250m, 0.5, 64Mi, 1G, 1e3)");
  CHECK(Error("1Ki5") ==
        "quantity \"1Ki5\": unknown suffix \"Ki5\" (use e.g. 250m, 0.5, 64Mi, 1G, 1e3)");
  CHECK(Error("1.2.3") == "quantity \"1.2.3\": more than one decimal point");
  CHECK(Error("--1") ==
        "quantity \"--1\": must start with a number (use e.g. 250m, 0.5, 64Mi, 1G, 1e3)");
  CHECK(Error("mi") ==
        "quantity \"mi\": must start with a number (use e.g. 250m, 0.5, 64Mi, 1G, 1e3)");
  CHECK(Error("1 Gi") == "quantity \"1 Gi\": must not contain whitespace");
  CHECK(Error(" 1") == "quantity \" 1\": must not contain whitespace");
  CHECK(Error("1\n") == "quantity \"1\\n\": must not contain whitespace");
}

TEST_CASE("Quantity rejects bad suffixes and exponents") {
  for (std::string_view text :
       {"1K", "1KI", "1ki", "1gi", "1g", "1Mb", "1b", "1B", "1e", "1E+", "1e-", "1e3.5",
        "1e3m", "1ee3", "1Ei3", "1mm", "1i", "1e 3", "1x", "1%", "1,5", "1_000", "0x10",
        "1.5.Gi", "1Gi ", "Gi", ".", "-", "+", "+-1", "-.", ".e3", "e3", "1\xff"}) {
    INFO("text: ", std::string(text));
    absl::StatusOr<Quantity> q = Quantity::Parse(text);
    CHECK_FALSE(q.ok());
    CHECK(q.status().code() == absl::StatusCode::kInvalidArgument);
    // The input always appears quoted in the message.
    if (text.find_first_of("\n\xff") == std::string_view::npos) {
      CHECK(q.status().message().find("\"" + std::string(text) + "\"") !=
            std::string_view::npos);
    }
  }
  CHECK(Error("1\xff").find("quantity \"1\\377\"") == 0);
}

TEST_CASE("FormatQuantity spells computed values as Kubernetes canonicalizes them") {
  using F = QuantityFormat;
  CHECK(FormatQuantity(0, F::kDecimalSI) == "0");
  CHECK(FormatQuantity(0, F::kBinarySI) == "0");
  CHECK(FormatQuantity(1500, F::kDecimalSI) == "1500m");
  CHECK(FormatQuantity(2000, F::kDecimalSI) == "2");
  CHECK(FormatQuantity(1'500'000, F::kDecimalSI) == "1500");
  CHECK(FormatQuantity(2'000'000, F::kDecimalSI) == "2k");
  CHECK(FormatQuantity(-250, F::kDecimalSI) == "-250m");
  const int64_t kMi = int64_t{1} << 20;
  CHECK(FormatQuantity(64 * kMi * 1000, F::kBinarySI) == "64Mi");
  CHECK(FormatQuantity(int64_t{8039364} * 1024 * 1000, F::kBinarySI) == "8039364Ki");
  CHECK(FormatQuantity(1536 * kMi * 1000, F::kBinarySI) == "1536Mi");
  CHECK(FormatQuantity(4 * 1024 * kMi * 1000, F::kBinarySI) == "4Gi");
  // Below 1Ki, or not a whole number of bytes: decimal, as in Kubernetes.
  CHECK(FormatQuantity(1536 * 1000, F::kBinarySI) == "1536");
  CHECK(FormatQuantity(512 * 1000, F::kBinarySI) == "512");
  CHECK(FormatQuantity(500, F::kBinarySI) == "500m");
  CHECK(FormatQuantity(-64 * kMi * 1000, F::kBinarySI) == "-64Mi");
  // The values round-trip.
  CHECK(Q(FormatQuantity(1500, F::kDecimalSI)).MilliValue() == 1500);
  CHECK(Q(FormatQuantity(1536 * kMi * 1000, F::kBinarySI)).Value() == 1536 * kMi);
}

TEST_CASE("FormatOf tells binary suffixes from decimal ones") {
  CHECK(FormatOf(Q("64Mi")) == QuantityFormat::kBinarySI);
  CHECK(FormatOf(Q("1Ki")) == QuantityFormat::kBinarySI);
  CHECK(FormatOf(Q("64M")) == QuantityFormat::kDecimalSI);
  CHECK(FormatOf(Q("250m")) == QuantityFormat::kDecimalSI);
  CHECK(FormatOf(Q("1e3")) == QuantityFormat::kDecimalSI);
  CHECK(FormatOf(Quantity()) == QuantityFormat::kDecimalSI);
}

}  // namespace
}  // namespace reef::manifest
