// Compares two JSON texts as documents: objects by their member sets (order
// does not matter), arrays in order, numbers by their exact text (so 1.0 and
// 1.00 differ, as FHIR decimals must), and a number never equals a string.
#ifndef GENOGATE_TESTS_TESTING_JSON_EQUAL_H_
#define GENOGATE_TESTS_TESTING_JSON_EQUAL_H_

#include <string>
#include <string_view>

namespace genogate::testing {

// Returns "" when equal, else a description of the first difference with
// its JSON path (or of a parse error).
std::string JsonDifference(std::string_view expected, std::string_view actual);

}  // namespace genogate::testing

#endif  // GENOGATE_TESTS_TESTING_JSON_EQUAL_H_
