// A JS number written as JavaScript writes it (String(n)): NaN, -4096, 1.5,
// 1152921504606846976, 1e+21, 1e-7. Messages about values that came from JS show
// them this way, never C-style ("nan", "-4096.000000").
#pragma once
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace vkalloc {

inline std::string JsNumber(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (v == 0) return "0";  // -0 too
  std::string sign = v < 0 ? "-" : "";
  v = std::fabs(v);
  // The shortest digits that read back as v (what JS prints), as d.ddde±x.
  char buf[40];
  for (int precision = 1; precision <= 17; precision++) {
    snprintf(buf, sizeof buf, "%.*e", precision - 1, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string text(buf);
  const size_t e = text.find('e');
  std::string digits = text.substr(0, 1) + (e > 2 ? text.substr(2, e - 2) : "");
  const int k = static_cast<int>(digits.size());
  const int n = std::atoi(text.c_str() + e + 1) + 1;  // v = 0.digits x 10^n
  // ECMAScript Number::toString: plain notation for 1e-7 < v < 1e21, else exponent.
  if (k <= n && n <= 21) return sign + digits + std::string(n - k, '0');
  if (0 < n && n <= 21) return sign + digits.substr(0, n) + "." + digits.substr(n);
  if (-6 < n && n <= 0) return sign + "0." + std::string(-n, '0') + digits;
  const std::string exponent = (n - 1 < 0 ? "-" : "+") + std::to_string(std::abs(n - 1));
  return sign + digits.substr(0, 1) + (k > 1 ? "." + digits.substr(1) : "") + "e" + exponent;
}

}  // namespace vkalloc
