#include "base/result.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "base/issue.h"

namespace genogate {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Error(ErrorCode::kInvalidInput, "odd");
  return x / 2;
}

TEST(ResultTest, HoldsValueOrError) {
  Result<int> a = Half(8);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*a, 4);
  Result<int> b = Half(3);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code(), ErrorCode::kInvalidInput);
  EXPECT_EQ(b.error().ToString(), "invalid-input: odd");
}

TEST(ResultTest, MovesOnlyTypes) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

TEST(ErrorTest, RetryableCodes) {
  EXPECT_TRUE(IsRetryable(ErrorCode::kUnavailable));
  EXPECT_TRUE(IsRetryable(ErrorCode::kTimeout));
  EXPECT_FALSE(IsRetryable(ErrorCode::kInvalidInput));
  EXPECT_FALSE(IsRetryable(ErrorCode::kPermissionDenied));
  Error e = Error(ErrorCode::kNotFound, "no such file").WithContext("a.vcf");
  EXPECT_EQ(e.message(), "a.vcf: no such file");
}

TEST(StatusTest, OkAndError) {
  Status ok;
  EXPECT_TRUE(ok.ok());
  Status bad = Error(ErrorCode::kIo, "disk full");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kIo);
}

TEST(IssueListTest, CountsAndText) {
  IssueList list;
  EXPECT_FALSE(list.HasErrors());
  list.Add(
      {Severity::kWarning, "value", "odd value", "Patient.gender", 3, 5, "w1"});
  EXPECT_FALSE(list.HasErrors());
  list.Add({Severity::kError, "structure", "unknown element", "Patient.foo", 0,
            0, "unknown-element"});
  EXPECT_TRUE(list.HasErrors());
  EXPECT_EQ(list.Count(Severity::kWarning), 1u);
  EXPECT_EQ(list.ToText(),
            "warning [w1] Patient.gender (line 3, col 5): odd value\n"
            "error [unknown-element] Patient.foo: unknown element\n");
}

}  // namespace
}  // namespace genogate
