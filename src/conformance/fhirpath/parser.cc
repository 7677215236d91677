// Lexer and precedence-climbing parser for FHIRPath N1, producing the typed
// AST of ast.h.
#include <re2/re2.h>

#include <array>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "base/utf8.h"
#include "conformance/fhirpath/ast.h"
#include "conformance/fhirpath/fhirpath.h"
#include "conformance/fhirpath/regex_cache.h"

namespace genogate::fhirpath {

// ------------------------------------------------------------ functions

namespace {

constexpr FunctionInfo kFunctions[] = {
    {"empty", Fn::kEmpty, 0, 0, false, false},
    {"exists", Fn::kExists, 0, 1, true, false},
    {"all", Fn::kAll, 1, 1, true, false},
    {"allTrue", Fn::kAllTrue, 0, 0, false, false},
    {"anyTrue", Fn::kAnyTrue, 0, 0, false, false},
    {"allFalse", Fn::kAllFalse, 0, 0, false, false},
    {"anyFalse", Fn::kAnyFalse, 0, 0, false, false},
    {"subsetOf", Fn::kSubsetOf, 1, 1, false, false},
    {"supersetOf", Fn::kSupersetOf, 1, 1, false, false},
    {"count", Fn::kCount, 0, 0, false, false},
    {"distinct", Fn::kDistinct, 0, 0, false, false},
    {"isDistinct", Fn::kIsDistinct, 0, 0, false, false},
    {"where", Fn::kWhere, 1, 1, true, false},
    {"select", Fn::kSelect, 1, 1, true, false},
    {"repeat", Fn::kRepeat, 1, 1, true, false},
    {"ofType", Fn::kOfType, 1, 1, false, true},
    {"single", Fn::kSingle, 0, 0, false, false},
    {"first", Fn::kFirst, 0, 0, false, false},
    {"last", Fn::kLast, 0, 0, false, false},
    {"tail", Fn::kTail, 0, 0, false, false},
    {"skip", Fn::kSkip, 1, 1, false, false},
    {"take", Fn::kTake, 1, 1, false, false},
    {"intersect", Fn::kIntersect, 1, 1, false, false},
    {"exclude", Fn::kExclude, 1, 1, false, false},
    {"union", Fn::kUnion, 1, 1, false, false},
    {"combine", Fn::kCombine, 1, 1, false, false},
    {"iif", Fn::kIif, 2, 3, true, false},
    {"toBoolean", Fn::kToBoolean, 0, 0, false, false},
    {"convertsToBoolean", Fn::kConvertsToBoolean, 0, 0, false, false},
    {"toInteger", Fn::kToInteger, 0, 0, false, false},
    {"convertsToInteger", Fn::kConvertsToInteger, 0, 0, false, false},
    {"toDecimal", Fn::kToDecimal, 0, 0, false, false},
    {"convertsToDecimal", Fn::kConvertsToDecimal, 0, 0, false, false},
    {"toString", Fn::kToString, 0, 0, false, false},
    {"convertsToString", Fn::kConvertsToString, 0, 0, false, false},
    {"toDate", Fn::kToDate, 0, 0, false, false},
    {"convertsToDate", Fn::kConvertsToDate, 0, 0, false, false},
    {"toDateTime", Fn::kToDateTime, 0, 0, false, false},
    {"convertsToDateTime", Fn::kConvertsToDateTime, 0, 0, false, false},
    {"toTime", Fn::kToTime, 0, 0, false, false},
    {"convertsToTime", Fn::kConvertsToTime, 0, 0, false, false},
    {"toQuantity", Fn::kToQuantity, 0, 1, false, false},
    {"convertsToQuantity", Fn::kConvertsToQuantity, 0, 1, false, false},
    {"indexOf", Fn::kIndexOf, 1, 1, false, false},
    {"substring", Fn::kSubstring, 1, 2, false, false},
    {"startsWith", Fn::kStartsWith, 1, 1, false, false},
    {"endsWith", Fn::kEndsWith, 1, 1, false, false},
    {"contains", Fn::kContains, 1, 1, false, false},
    {"upper", Fn::kUpper, 0, 0, false, false},
    {"lower", Fn::kLower, 0, 0, false, false},
    {"replace", Fn::kReplace, 2, 2, false, false},
    {"matches", Fn::kMatches, 1, 1, false, false},
    {"replaceMatches", Fn::kReplaceMatches, 2, 2, false, false},
    {"length", Fn::kLength, 0, 0, false, false},
    {"toChars", Fn::kToChars, 0, 0, false, false},
    {"abs", Fn::kAbs, 0, 0, false, false},
    {"ceiling", Fn::kCeiling, 0, 0, false, false},
    {"exp", Fn::kExp, 0, 0, false, false},
    {"floor", Fn::kFloor, 0, 0, false, false},
    {"ln", Fn::kLn, 0, 0, false, false},
    {"log", Fn::kLog, 1, 1, false, false},
    {"power", Fn::kPower, 1, 1, false, false},
    {"round", Fn::kRound, 0, 1, false, false},
    {"sqrt", Fn::kSqrt, 0, 0, false, false},
    {"truncate", Fn::kTruncate, 0, 0, false, false},
    {"children", Fn::kChildren, 0, 0, false, false},
    {"descendants", Fn::kDescendants, 0, 0, false, false},
    {"trace", Fn::kTrace, 1, 2, true, false},
    {"now", Fn::kNow, 0, 0, false, false},
    {"timeOfDay", Fn::kTimeOfDay, 0, 0, false, false},
    {"today", Fn::kToday, 0, 0, false, false},
    {"aggregate", Fn::kAggregate, 1, 2, true, false},
    {"not", Fn::kNot, 0, 0, false, false},
    {"hasValue", Fn::kHasValue, 0, 0, false, false},
    {"is", Fn::kIs, 1, 1, false, true},
    {"as", Fn::kAs, 1, 1, false, true},
    {"extension", Fn::kExtension, 1, 1, false, false},
    {"resolve", Fn::kResolve, 0, 0, false, false},
    {"getValue", Fn::kGetValue, 0, 0, false, false},
    {"conformsTo", Fn::kConformsTo, 1, 1, false, false},
    {"memberOf", Fn::kMemberOf, 1, 1, false, false},
    {"subsumes", Fn::kSubsumes, 1, 1, false, false},
    {"subsumedBy", Fn::kSubsumedBy, 1, 1, false, false},
    {"htmlChecks", Fn::kHtmlChecks, 0, 0, false, false},
    {"htmlChecks2", Fn::kHtmlChecks, 0, 0, false, false},
    {"elementDefinition", Fn::kElementDefinition, 0, 0, false, false},
    {"slice", Fn::kSlice, 2, 2, false, false},
    {"checkModifiers", Fn::kCheckModifiers, 1, 1, false, false},
};

}  // namespace

const FunctionInfo* FindFunction(std::string_view name) {
  for (const FunctionInfo& f : kFunctions) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string_view OpName(Op op) {
  switch (op) {
    case Op::kNone:
      return "";
    case Op::kNeg:
      return "-";
    case Op::kPos:
      return "+";
    case Op::kMul:
      return "*";
    case Op::kDiv:
      return "/";
    case Op::kIntDiv:
      return "div";
    case Op::kMod:
      return "mod";
    case Op::kAdd:
      return "+";
    case Op::kSub:
      return "-";
    case Op::kConcat:
      return "&";
    case Op::kIs:
      return "is";
    case Op::kAs:
      return "as";
    case Op::kUnion:
      return "|";
    case Op::kLt:
      return "<";
    case Op::kGt:
      return ">";
    case Op::kLe:
      return "<=";
    case Op::kGe:
      return ">=";
    case Op::kEq:
      return "=";
    case Op::kEquiv:
      return "~";
    case Op::kNe:
      return "!=";
    case Op::kNotEquiv:
      return "!~";
    case Op::kIn:
      return "in";
    case Op::kContains:
      return "contains";
    case Op::kAnd:
      return "and";
    case Op::kOr:
      return "or";
    case Op::kXor:
      return "xor";
    case Op::kImplies:
      return "implies";
  }
  return "";
}

// ---------------------------------------------------------------- lexer

namespace {

enum class Tok : uint8_t {
  kEnd,
  kIdent,       // plain identifier (may be a keyword)
  kDelimIdent,  // `...`
  kString,      // '...'
  kNumber,      // 12 / 1.5
  kDate,        // @2019-02-03, text without '@'
  kDateTime,    // @2019-02-03T10:00
  kTime,        // @T10:00, text without "@T"
  kSpecial,     // $this / $index / $total
  kExternal,    // %name or %'name' (text = name)
  kPunct,       // . [ ] ( ) , + - * / & | < > <= >= = ~ != !~ { }
};

struct Token {
  Tok kind = Tok::kEnd;
  uint32_t pos = 0;
  uint32_t end = 0;
  std::string text;  // decoded for strings and delimited identifiers
};

bool IsIdentStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }
bool IsDigitC(char c) { return c >= '0' && c <= '9'; }

class Lexer {
 public:
  explicit Lexer(std::string_view text) : t_(text) {}

  // Tokenises everything; false with error() set on a lexical error.
  bool Run(std::vector<Token>* out) {
    while (true) {
      if (!SkipSpace()) return false;
      Token tok;
      tok.pos = static_cast<uint32_t>(i_);
      if (i_ >= t_.size()) {
        tok.kind = Tok::kEnd;
        tok.end = tok.pos;
        out->push_back(std::move(tok));
        return true;
      }
      if (!Next(&tok)) return false;
      tok.end = static_cast<uint32_t>(i_);
      out->push_back(std::move(tok));
    }
  }

  const std::string& error() const { return error_; }
  uint32_t error_pos() const { return error_pos_; }

 private:
  bool Fail(size_t pos, std::string msg) {
    error_pos_ = static_cast<uint32_t>(pos);
    error_ = std::move(msg);
    return false;
  }

  bool SkipSpace() {
    while (i_ < t_.size()) {
      char c = t_[i_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f') {
        ++i_;
      } else if (c == '/' && i_ + 1 < t_.size() && t_[i_ + 1] == '/') {
        while (i_ < t_.size() && t_[i_] != '\n') ++i_;
      } else if (c == '/' && i_ + 1 < t_.size() && t_[i_ + 1] == '*') {
        size_t start = i_;
        size_t e = t_.find("*/", i_ + 2);
        if (e == std::string_view::npos) {
          return Fail(start, "expected '*/' to close the comment");
        }
        i_ = e + 2;
      } else {
        break;
      }
    }
    return true;
  }

  // Reads a quoted string or delimited identifier starting at t_[i_].
  bool Quoted(char q, std::string* out) {
    size_t start = i_;
    ++i_;
    while (i_ < t_.size() && t_[i_] != q) {
      char c = t_[i_];
      if (c == '\\') {
        if (i_ + 1 >= t_.size()) break;
        char e = t_[i_ + 1];
        i_ += 2;
        switch (e) {
          case '\'':
            *out += '\'';
            break;
          case '"':
            *out += '"';
            break;
          case '`':
            *out += '`';
            break;
          case 'r':
            *out += '\r';
            break;
          case 'n':
            *out += '\n';
            break;
          case 't':
            *out += '\t';
            break;
          case 'f':
            *out += '\f';
            break;
          case '\\':
            *out += '\\';
            break;
          case '/':
            *out += '/';
            break;
          case 'u': {
            uint32_t cp = 0;
            for (int k = 0; k < 4; ++k) {
              if (i_ >= t_.size() ||
                  !std::isxdigit(static_cast<unsigned char>(t_[i_]))) {
                return Fail(i_, "expected 4 hex digits after \\u");
              }
              char h = t_[i_++];
              cp = cp * 16 + (IsDigitC(h) ? h - '0' : (h | 0x20) - 'a' + 10);
            }
            // Combine a surrogate pair written as two escapes.
            if (cp >= 0xD800 && cp <= 0xDBFF && i_ + 6 <= t_.size() &&
                t_[i_] == '\\' && t_[i_ + 1] == 'u') {
              uint32_t lo = 0;
              bool ok = true;
              for (int k = 0; k < 4; ++k) {
                char h = t_[i_ + 2 + k];
                if (!std::isxdigit(static_cast<unsigned char>(h))) ok = false;
                lo = lo * 16 + (IsDigitC(h) ? h - '0' : (h | 0x20) - 'a' + 10);
              }
              if (ok && lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i_ += 6;
              }
            }
            AppendUtf8(*out, cp);
            break;
          }
          default:
            return Fail(i_ - 2,
                        std::string("invalid escape sequence '\\") + e + "'");
        }
        continue;
      }
      *out += c;
      ++i_;
    }
    if (i_ >= t_.size()) {
      return Fail(start, std::string("expected closing ") + q + " for the " +
                             (q == '`' ? "identifier" : "string") +
                             " begun here");
    }
    ++i_;
    return true;
  }

  // FHIRPath date/time literal after '@'.
  bool DateLiteral(Token* tok) {
    size_t start = i_;
    ++i_;  // '@'
    auto digits = [&](int n) {
      if (i_ + n > t_.size()) return false;
      for (int k = 0; k < n; ++k) {
        if (!IsDigitC(t_[i_ + k])) return false;
      }
      i_ += n;
      return true;
    };
    auto time_part = [&]() {
      if (!digits(2)) return false;
      if (i_ < t_.size() && t_[i_] == ':') {
        ++i_;
        if (!digits(2)) return false;
        if (i_ < t_.size() && t_[i_] == ':') {
          ++i_;
          if (!digits(2)) return false;
          if (i_ + 1 < t_.size() && t_[i_] == '.' && IsDigitC(t_[i_ + 1])) {
            ++i_;
            while (i_ < t_.size() && IsDigitC(t_[i_])) ++i_;
          }
        }
      }
      return true;
    };
    if (i_ < t_.size() && t_[i_] == 'T') {
      ++i_;
      size_t ts = i_;
      if (!time_part())
        return Fail(start, "expected a time after '@T' (hh[:mm[:ss[.fff]]])");
      tok->kind = Tok::kTime;
      tok->text = std::string(t_.substr(ts, i_ - ts));
      return true;
    }
    size_t ds = i_;
    if (!digits(4))
      return Fail(start, "expected a date after '@' (YYYY[-MM[-DD]])");
    if (i_ + 2 < t_.size() && t_[i_] == '-' && IsDigitC(t_[i_ + 1])) {
      ++i_;
      if (!digits(2)) return Fail(start, "expected a two-digit month");
      if (i_ + 2 < t_.size() && t_[i_] == '-' && IsDigitC(t_[i_ + 1])) {
        ++i_;
        if (!digits(2)) return Fail(start, "expected a two-digit day");
      }
    }
    tok->kind = Tok::kDate;
    if (i_ < t_.size() && t_[i_] == 'T') {
      ++i_;
      tok->kind = Tok::kDateTime;
      if (i_ < t_.size() && IsDigitC(t_[i_])) {
        if (!time_part()) return Fail(start, "expected a time after 'T'");
        if (i_ < t_.size() && t_[i_] == 'Z') {
          ++i_;
        } else if (i_ + 5 < t_.size() + 0 && (t_[i_] == '+' || t_[i_] == '-') &&
                   IsDigitC(t_[i_ + 1]) && IsDigitC(t_[i_ + 2]) &&
                   t_[i_ + 3] == ':') {
          i_ += 4;
          if (!digits(2))
            return Fail(start, "expected a timezone offset (+hh:mm)");
        }
      }
    }
    tok->text = std::string(t_.substr(ds, i_ - ds));
    if (i_ < t_.size() && IsIdentChar(t_[i_])) {
      return Fail(i_, "unexpected character after the date/time literal");
    }
    return true;
  }

  bool Next(Token* tok) {
    char c = t_[i_];
    if (IsIdentStart(c)) {
      size_t s = i_;
      while (i_ < t_.size() && IsIdentChar(t_[i_])) ++i_;
      tok->kind = Tok::kIdent;
      tok->text = std::string(t_.substr(s, i_ - s));
      return true;
    }
    if (IsDigitC(c)) {
      size_t s = i_;
      while (i_ < t_.size() && IsDigitC(t_[i_])) ++i_;
      if (i_ + 1 < t_.size() && t_[i_] == '.' && IsDigitC(t_[i_ + 1])) {
        ++i_;
        while (i_ < t_.size() && IsDigitC(t_[i_])) ++i_;
      }
      tok->kind = Tok::kNumber;
      tok->text = std::string(t_.substr(s, i_ - s));
      return true;
    }
    switch (c) {
      case '\'':
        tok->kind = Tok::kString;
        return Quoted('\'', &tok->text);
      case '`':
        tok->kind = Tok::kDelimIdent;
        if (!Quoted('`', &tok->text)) return false;
        if (tok->text.empty())
          return Fail(tok->pos, "expected a name inside ``");
        return true;
      case '@':
        return DateLiteral(tok);
      case '$': {
        size_t s = i_;
        ++i_;
        while (i_ < t_.size() && IsIdentChar(t_[i_])) ++i_;
        std::string_view w = t_.substr(s, i_ - s);
        if (w != "$this" && w != "$index" && w != "$total") {
          return Fail(s, "expected $this, $index or $total");
        }
        tok->kind = Tok::kSpecial;
        tok->text = std::string(w);
        return true;
      }
      case '%': {
        size_t s = i_;
        ++i_;
        tok->kind = Tok::kExternal;
        if (i_ < t_.size() && t_[i_] == '\'') return Quoted('\'', &tok->text);
        if (i_ < t_.size() && t_[i_] == '`') return Quoted('`', &tok->text);
        size_t ns = i_;
        // %vs-name and %ext-name allow '-' and '.' inside the name.
        while (i_ < t_.size() &&
               (IsIdentChar(t_[i_]) ||
                ((t_[i_] == '-' || t_[i_] == '.') && i_ > ns &&
                 i_ + 1 < t_.size() && IsIdentChar(t_[i_ + 1]) &&
                 (t_.substr(ns, 3) == "vs-" || t_.substr(ns, 4) == "ext-" ||
                  (i_ - ns == 2 && t_.substr(ns, 2) == "vs") ||
                  (i_ - ns == 3 && t_.substr(ns, 3) == "ext"))))) {
          ++i_;
        }
        if (i_ == ns) return Fail(s, "expected a variable name after '%'");
        tok->text = std::string(t_.substr(ns, i_ - ns));
        return true;
      }
      default:
        break;
    }
    static constexpr std::string_view kTwo[] = {"<=", ">=", "!=", "!~"};
    for (std::string_view p : kTwo) {
      if (t_.substr(i_, 2) == p) {
        tok->kind = Tok::kPunct;
        tok->text = std::string(p);
        i_ += 2;
        return true;
      }
    }
    if (std::strchr(".[](),+-*/&|<>=~{}", c) != nullptr && c != '\0') {
      tok->kind = Tok::kPunct;
      tok->text = std::string(1, c);
      ++i_;
      return true;
    }
    std::string shown =
        (c >= 0x20 && c < 0x7f)
            ? std::string(1, c)
            : "byte " + std::to_string(static_cast<unsigned char>(c));
    return Fail(i_, "unexpected character '" + shown + "'");
  }

  std::string_view t_;
  size_t i_ = 0;
  std::string error_;
  uint32_t error_pos_ = 0;
};

// --------------------------------------------------------------- parser

using AstPtr = std::unique_ptr<Ast>;

struct BinOp {
  std::string_view text;
  bool keyword;
  Op op;
  int prec;  // higher binds tighter
};

constexpr BinOp kBinOps[] = {
    {"*", false, Op::kMul, 10},     {"/", false, Op::kDiv, 10},
    {"div", true, Op::kIntDiv, 10}, {"mod", true, Op::kMod, 10},
    {"+", false, Op::kAdd, 9},      {"-", false, Op::kSub, 9},
    {"&", false, Op::kConcat, 9},   {"is", true, Op::kIs, 8},
    {"as", true, Op::kAs, 8},       {"|", false, Op::kUnion, 7},
    {"<", false, Op::kLt, 6},       {">", false, Op::kGt, 6},
    {"<=", false, Op::kLe, 6},      {">=", false, Op::kGe, 6},
    {"=", false, Op::kEq, 5},       {"~", false, Op::kEquiv, 5},
    {"!=", false, Op::kNe, 5},      {"!~", false, Op::kNotEquiv, 5},
    {"in", true, Op::kIn, 4},       {"contains", true, Op::kContains, 4},
    {"and", true, Op::kAnd, 3},     {"or", true, Op::kOr, 2},
    {"xor", true, Op::kXor, 2},     {"implies", true, Op::kImplies, 1},
};

bool IsCalendarWord(std::string_view w) {
  static constexpr std::string_view kWords[] = {
      "year",   "years",   "month",       "months",      "week",   "weeks",
      "day",    "days",    "hour",        "hours",       "minute", "minutes",
      "second", "seconds", "millisecond", "milliseconds"};
  for (auto k : kWords) {
    if (k == w) return true;
  }
  return false;
}

std::string Describe(const Token& t) {
  switch (t.kind) {
    case Tok::kEnd:
      return "end of expression";
    case Tok::kIdent:
      return "'" + t.text + "'";
    case Tok::kDelimIdent:
      return "identifier `" + t.text + "`";
    case Tok::kString:
      return "string '" + t.text + "'";
    case Tok::kNumber:
      return "number " + t.text;
    case Tok::kDate:
    case Tok::kDateTime:
      return "date/time @" + t.text;
    case Tok::kTime:
      return "time @T" + t.text;
    case Tok::kSpecial:
      return t.text;
    case Tok::kExternal:
      return "%" + t.text;
    case Tok::kPunct:
      return "'" + t.text + "'";
  }
  return "?";
}

class Parser {
 public:
  Parser(std::string_view text, std::vector<Token> toks,
         const CompileOptions& o)
      : text_(text), toks_(std::move(toks)), opts_(o) {}

  AstPtr ParseAll() {
    AstPtr e = Expr(0);
    if (!e) return nullptr;
    if (Peek().kind != Tok::kEnd) {
      return Fail(Peek(), "expected an operator or end of expression");
    }
    MarkContextFree(e.get());
    return e;
  }

  // Computes Ast::context_free bottom-up (recursion bounded by max_depth).
  static bool MarkContextFree(Ast* a) {
    if (a == nullptr) return false;
    bool args_free = true;
    for (size_t i = 0; i < a->args.size(); ++i) {
      if (!MarkContextFree(a->args[i].get())) args_free = false;
    }
    bool target_free =
        !a->args.empty() && a->args[0] && a->args[0]->context_free;
    switch (a->kind) {
      case NodeKind::kLiteral:
      case NodeKind::kEmpty:
      case NodeKind::kVariable:
      case NodeKind::kResourceVar:
      case NodeKind::kRootResourceVar:
      case NodeKind::kContextVar:
        a->context_free = true;
        break;
      case NodeKind::kThis:
      case NodeKind::kIndex:
      case NodeKind::kTotal:
        a->context_free = false;
        break;
      case NodeKind::kMember:
        a->context_free = target_free;
        break;
      case NodeKind::kFunction: {
        // No target: applies to the focus. trace() has an effect per call.
        if (!target_free || a->fn->fn == Fn::kTrace) {
          a->context_free = false;
          break;
        }
        bool free = true;
        if (!a->fn->lazy_args) {
          // Other arguments are evaluated against the enclosing $this.
          for (size_t i = 1; i < a->args.size(); ++i) {
            if (!a->args[i]->context_free) free = false;
          }
        }
        // Lazy arguments (where, select, all, ...) see only the target's
        // items, so they cannot depend on the enclosing focus; aggregate's
        // initial value is evaluated against the enclosing focus.
        if (a->fn->fn == Fn::kAggregate && a->args.size() > 2 &&
            !a->args[2]->context_free) {
          free = false;
        }
        a->context_free = free;
        break;
      }
      default:  // indexer, unary, binary, type operators
        a->context_free = args_free;
        break;
    }
    return a->context_free;
  }

  bool limit_hit() const { return limit_hit_; }
  const std::string& error() const { return error_; }
  uint32_t error_pos() const { return error_pos_; }

 private:
  const Token& Peek(size_t k = 0) const {
    size_t i = p_ + k;
    return i < toks_.size() ? toks_[i] : toks_.back();
  }
  const Token& Take() {
    const Token& t = toks_[p_];
    if (p_ + 1 < toks_.size()) ++p_;
    return t;
  }
  bool IsPunct(const Token& t, std::string_view s) const {
    return t.kind == Tok::kPunct && t.text == s;
  }

  AstPtr Fail(const Token& at, const std::string& expected) {
    if (error_.empty()) {
      error_pos_ = at.pos;
      error_ = expected + ", found " + Describe(at);
    }
    return nullptr;
  }
  AstPtr FailMsg(uint32_t pos, const std::string& msg) {
    if (error_.empty()) {
      error_pos_ = pos;
      error_ = msg;
    }
    return nullptr;
  }

  AstPtr Make(NodeKind kind, uint32_t pos) {
    auto a = std::make_unique<Ast>();
    a->kind = kind;
    a->pos = pos;
    return a;
  }
  // Appends a child and checks the depth bound.
  bool Add(Ast* parent, AstPtr child) {
    uint32_t d = child ? child->depth + 1 : 1;
    if (d > parent->depth) parent->depth = d;
    parent->args.push_back(std::move(child));
    if (parent->depth > opts_.max_depth) {
      limit_hit_ = true;
      FailMsg(parent->pos, "expression nested deeper than " +
                               std::to_string(opts_.max_depth));
      return false;
    }
    return true;
  }

  // Binary operator at the current token, or null.
  const BinOp* PeekBinOp() const {
    const Token& t = Peek();
    if (t.kind != Tok::kPunct && t.kind != Tok::kIdent) return nullptr;
    for (const BinOp& b : kBinOps) {
      if (b.keyword == (t.kind == Tok::kIdent) && t.text == b.text) return &b;
    }
    return nullptr;
  }

  AstPtr Expr(int min_prec) {
    if (++depth_ > opts_.max_depth) {
      limit_hit_ = true;
      return FailMsg(Peek().pos, "expression nested deeper than " +
                                     std::to_string(opts_.max_depth));
    }
    AstPtr left = Unary();
    if (!left) return nullptr;
    while (true) {
      const BinOp* b = PeekBinOp();
      if (b == nullptr || b->prec < min_prec) break;
      const Token& optok = Take();
      if (b->op == Op::kIs || b->op == Op::kAs) {
        AstPtr n = Make(NodeKind::kTypeOp, optok.pos);
        n->op = b->op;
        if (!TypeSpecifier(&n->type)) return nullptr;
        if (!Add(n.get(), std::move(left))) return nullptr;
        left = std::move(n);
        continue;
      }
      AstPtr right = Expr(b->prec + 1);
      if (!right) return nullptr;
      AstPtr n = Make(NodeKind::kBinary, optok.pos);
      n->op = b->op;
      if (!Add(n.get(), std::move(left)) || !Add(n.get(), std::move(right))) {
        return nullptr;
      }
      left = std::move(n);
    }
    --depth_;
    return left;
  }

  bool TypeSpecifier(TypeSpec* out) {
    const Token& t = Peek();
    if (t.kind != Tok::kIdent && t.kind != Tok::kDelimIdent) {
      Fail(t, "expected a type name");
      return false;
    }
    std::string first = Take().text;
    if (IsPunct(Peek(), ".") &&
        (Peek(1).kind == Tok::kIdent || Peek(1).kind == Tok::kDelimIdent)) {
      Take();
      out->ns = first;
      out->name = Take().text;
    } else {
      out->name = first;
    }
    return true;
  }

  AstPtr Unary() {
    const Token& t = Peek();
    if (IsPunct(t, "+") || IsPunct(t, "-")) {
      Take();
      if (++depth_ > opts_.max_depth) {
        limit_hit_ = true;
        return FailMsg(t.pos, "expression nested deeper than " +
                                  std::to_string(opts_.max_depth));
      }
      AstPtr operand = Unary();
      --depth_;
      if (!operand) return nullptr;
      // Fold a sign into a numeric literal: -5 is Integer -5.
      if (operand->kind == NodeKind::kLiteral && t.text == "-") {
        Item& lit = operand->literal;
        if (lit.kind() == Item::Kind::kInteger) {
          if (lit.integer() != INT64_MIN) {
            lit = Item::Integer(-lit.integer());
            operand->pos = t.pos;
            return operand;
          }
        } else if (lit.kind() == Item::Kind::kDecimal) {
          lit = Item::Dec(lit.decimal().Negate());
          operand->pos = t.pos;
          return operand;
        } else if (lit.kind() == Item::Kind::kQuantity) {
          Quantity q = lit.quantity();
          q.value = q.value.Negate();
          lit = Item::Qty(q);
          operand->pos = t.pos;
          return operand;
        }
      }
      AstPtr n = Make(NodeKind::kUnary, t.pos);
      n->op = t.text == "-" ? Op::kNeg : Op::kPos;
      if (!Add(n.get(), std::move(operand))) return nullptr;
      return n;
    }
    return Postfix();
  }

  AstPtr Postfix() {
    AstPtr e = Term();
    if (!e) return nullptr;
    while (true) {
      const Token& t = Peek();
      if (IsPunct(t, ".")) {
        Take();
        e = Invocation(std::move(e));
        if (!e) return nullptr;
      } else if (IsPunct(t, "[")) {
        Take();
        AstPtr idx = Expr(0);
        if (!idx) return nullptr;
        if (!IsPunct(Peek(), "]")) return Fail(Peek(), "expected ']'");
        Take();
        AstPtr n = Make(NodeKind::kIndexer, t.pos);
        if (!Add(n.get(), std::move(e)) || !Add(n.get(), std::move(idx))) {
          return nullptr;
        }
        e = std::move(n);
      } else {
        break;
      }
    }
    return e;
  }

  // identifier | function | $this | $index | $total, applied to `target`
  // (null: the focus).
  AstPtr Invocation(AstPtr target) {
    const Token& t = Peek();
    if (t.kind == Tok::kSpecial) {
      if (target)
        return Fail(t, "expected an identifier or function after '.'");
      Take();
      return Make(t.text == "$this"    ? NodeKind::kThis
                  : t.text == "$index" ? NodeKind::kIndex
                                       : NodeKind::kTotal,
                  t.pos);
    }
    if (t.kind != Tok::kIdent && t.kind != Tok::kDelimIdent) {
      return Fail(t, target ? "expected an identifier or function after '.'"
                            : "expected an expression");
    }
    const Token& name = Take();
    if (name.kind == Tok::kIdent && IsPunct(Peek(), "(")) {
      return Function(std::move(target), name);
    }
    AstPtr n = Make(NodeKind::kMember, name.pos);
    n->name = name.text;
    if (!Add(n.get(), std::move(target))) return nullptr;
    return n;
  }

  AstPtr Function(AstPtr target, const Token& name) {
    const FunctionInfo* fi = FindFunction(name.text);
    if (fi == nullptr) {
      return FailMsg(name.pos, "unknown function '" + name.text + "'");
    }
    Take();  // '('
    AstPtr n = Make(NodeKind::kFunction, name.pos);
    n->fn = fi;
    n->name = name.text;
    if (!Add(n.get(), std::move(target))) return nullptr;
    if (!IsPunct(Peek(), ")")) {
      while (true) {
        if (++depth_ > opts_.max_depth) {
          limit_hit_ = true;
          return FailMsg(Peek().pos, "expression nested deeper than " +
                                         std::to_string(opts_.max_depth));
        }
        AstPtr arg = Expr(0);
        --depth_;
        if (!arg) return nullptr;
        if (!Add(n.get(), std::move(arg))) return nullptr;
        if (IsPunct(Peek(), ",")) {
          Take();
          continue;
        }
        break;
      }
    }
    if (!IsPunct(Peek(), ")")) return Fail(Peek(), "expected ',' or ')'");
    Take();
    size_t nargs = n->args.size() - 1;
    if (nargs < fi->min_args || nargs > fi->max_args) {
      std::string want = fi->min_args == fi->max_args
                             ? std::to_string(fi->min_args)
                             : std::to_string(fi->min_args) + " to " +
                                   std::to_string(fi->max_args);
      return FailMsg(name.pos, "function '" + name.text + "' takes " + want +
                                   " argument(s), found " +
                                   std::to_string(nargs));
    }
    if (fi->type_arg) {
      // The argument is a type specifier: Name or Namespace.Name.
      const Ast* a = n->args[1].get();
      if (a->kind == NodeKind::kMember && a->args[0] == nullptr) {
        n->type.name = a->name;
      } else if (a->kind == NodeKind::kMember && a->args[0] &&
                 a->args[0]->kind == NodeKind::kMember &&
                 a->args[0]->args[0] == nullptr) {
        n->type.ns = a->args[0]->name;
        n->type.name = a->name;
      } else {
        return FailMsg(a->pos, "expected a type name as the argument of '" +
                                   name.text + "'");
      }
    }
    if ((fi->fn == Fn::kMatches || fi->fn == Fn::kReplaceMatches) &&
        n->args[1]->kind == NodeKind::kLiteral &&
        n->args[1]->literal.kind() == Item::Kind::kString) {
      const std::string& pat = n->args[1]->literal.string();
      auto re = RegexCache::CompileRegex(pat);
      if (!re) {
        return FailMsg(n->args[1]->pos, "invalid regular expression: " + pat);
      }
      n->regex = std::move(re);
    }
    return n;
  }

  AstPtr Term() {
    const Token& t = Peek();
    switch (t.kind) {
      case Tok::kNumber: {
        Take();
        AstPtr n = Make(NodeKind::kLiteral, t.pos);
        bool is_dec = t.text.find('.') != std::string::npos;
        std::optional<Decimal> d = Decimal::Parse(t.text);
        if (!d) return FailMsg(t.pos, "number out of range: " + t.text);
        // Quantity: number followed by a unit string or calendar keyword.
        const Token& u = Peek();
        if (u.kind == Tok::kString ||
            (u.kind == Tok::kIdent && IsCalendarWord(u.text))) {
          Take();
          n->literal = Item::Qty(Quantity{*d, u.text});
          return n;
        }
        if (is_dec) {
          n->literal = Item::Dec(*d);
        } else {
          auto i = d->ToInt64();
          if (!i || d->Compare(*d, Decimal::FromInt(*i)) != 0 ||
              t.text.size() > 19) {
            return FailMsg(t.pos, "integer out of range: " + t.text);
          }
          n->literal = Item::Integer(*i);
        }
        return n;
      }
      case Tok::kString: {
        Take();
        AstPtr n = Make(NodeKind::kLiteral, t.pos);
        n->literal = Item::String(t.text);
        return n;
      }
      case Tok::kDate:
      case Tok::kDateTime:
      case Tok::kTime: {
        Take();
        std::optional<DateTimeValue> v;
        if (t.kind == Tok::kDate) v = DateTimeValue::ParseDate(t.text);
        if (t.kind == Tok::kDateTime) v = DateTimeValue::ParseDateTime(t.text);
        if (t.kind == Tok::kTime) v = DateTimeValue::ParseTime(t.text);
        if (!v)
          return FailMsg(t.pos, "invalid date/time literal: " + Describe(t));
        AstPtr n = Make(NodeKind::kLiteral, t.pos);
        n->literal = Item::Temporal(*v);
        return n;
      }
      case Tok::kSpecial:
        return Invocation(nullptr);
      case Tok::kExternal: {
        Take();
        return External(t);
      }
      case Tok::kIdent:
        if (t.text == "true" || t.text == "false") {
          Take();
          AstPtr n = Make(NodeKind::kLiteral, t.pos);
          n->literal = Item::Boolean(t.text == "true");
          return n;
        }
        return Invocation(nullptr);
      case Tok::kDelimIdent:
        return Invocation(nullptr);
      case Tok::kPunct:
        if (t.text == "(") {
          Take();
          AstPtr e = Expr(0);
          if (!e) return nullptr;
          if (!IsPunct(Peek(), ")")) return Fail(Peek(), "expected ')'");
          Take();
          return e;
        }
        if (t.text == "{") {
          Take();
          if (!IsPunct(Peek(), "}")) return Fail(Peek(), "expected '}'");
          Take();
          return Make(NodeKind::kEmpty, t.pos);
        }
        break;
      default:
        break;
    }
    return Fail(t, "expected an expression");
  }

  AstPtr External(const Token& t) {
    const std::string& v = t.text;
    auto lit = [&](std::string s) {
      AstPtr n = Make(NodeKind::kLiteral, t.pos);
      n->literal = Item::String(std::move(s));
      return n;
    };
    if (v == "resource") return Make(NodeKind::kResourceVar, t.pos);
    if (v == "rootResource") return Make(NodeKind::kRootResourceVar, t.pos);
    if (v == "context") return Make(NodeKind::kContextVar, t.pos);
    if (v == "ucum") return lit("http://unitsofmeasure.org");
    if (v == "sct") return lit("http://snomed.info/sct");
    if (v == "loinc") return lit("http://loinc.org");
    if (v.rfind("vs-", 0) == 0) {
      return lit("http://hl7.org/fhir/ValueSet/" + v.substr(3));
    }
    if (v.rfind("ext-", 0) == 0) {
      return lit("http://hl7.org/fhir/StructureDefinition/" + v.substr(4));
    }
    AstPtr n = Make(NodeKind::kVariable, t.pos);
    n->name = v;
    return n;
  }

  std::string_view text_;
  std::vector<Token> toks_;
  const CompileOptions& opts_;
  size_t p_ = 0;
  uint32_t depth_ = 0;
  bool limit_hit_ = false;
  std::string error_;
  uint32_t error_pos_ = 0;
};

std::string Where(std::string_view text, uint32_t pos) {
  uint32_t line = 1, col = 1;
  for (uint32_t i = 0; i < pos && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

}  // namespace

std::string DebugString(const Ast& a) {
  auto arg = [&](size_t i) -> std::string {
    return a.args.size() > i && a.args[i] ? DebugString(*a.args[i]) : "_";
  };
  auto type = [&]() {
    return a.type.ns.empty() ? a.type.name : a.type.ns + "." + a.type.name;
  };
  switch (a.kind) {
    case NodeKind::kLiteral:
      switch (a.literal.kind()) {
        case Item::Kind::kBoolean:
          return a.literal.boolean() ? "true" : "false";
        case Item::Kind::kInteger:
          return std::to_string(a.literal.integer());
        case Item::Kind::kDecimal:
          return a.literal.decimal().ToString();
        case Item::Kind::kString:
          return "'" + a.literal.string() + "'";
        case Item::Kind::kDateTime: {
          const DateTimeValue& d = a.literal.temporal();
          return (d.kind == DateTimeValue::Kind::kTime ? "@T" : "@") +
                 d.ToString() +
                 (d.kind == DateTimeValue::Kind::kDateTime &&
                          d.precision <= DateTimeValue::Precision::kDay
                      ? "T"
                      : "");
        }
        case Item::Kind::kQuantity:
          return a.literal.quantity().ToString();
        case Item::Kind::kNode:
          return "?";
      }
      return "?";
    case NodeKind::kEmpty:
      return "{}";
    case NodeKind::kMember:
      return a.args.empty() || !a.args[0] ? a.name
                                          : "(. " + arg(0) + " " + a.name + ")";
    case NodeKind::kFunction: {
      std::string s = "(" + a.name + " " + arg(0);
      if (a.fn && a.fn->type_arg) return s + " " + type() + ")";
      for (size_t i = 1; i < a.args.size(); ++i) s += " " + arg(i);
      return s + ")";
    }
    case NodeKind::kIndexer:
      return "([] " + arg(0) + " " + arg(1) + ")";
    case NodeKind::kUnary:
      return "(" + std::string(OpName(a.op)) + " " + arg(0) + ")";
    case NodeKind::kBinary:
      return "(" + std::string(OpName(a.op)) + " " + arg(0) + " " + arg(1) +
             ")";
    case NodeKind::kTypeOp:
      return "(" + std::string(OpName(a.op)) + " " + arg(0) + " " + type() +
             ")";
    case NodeKind::kThis:
      return "$this";
    case NodeKind::kIndex:
      return "$index";
    case NodeKind::kTotal:
      return "$total";
    case NodeKind::kVariable:
      return "%" + a.name;
    case NodeKind::kResourceVar:
      return "%resource";
    case NodeKind::kRootResourceVar:
      return "%rootResource";
    case NodeKind::kContextVar:
      return "%context";
  }
  return "?";
}

Result<Expression> Compile(std::string_view text,
                           const CompileOptions& options) {
  if (text.size() > options.max_length) {
    return Error(ErrorCode::kLimitExceeded,
                 "FHIRPath expression longer than " +
                     std::to_string(options.max_length) + " bytes");
  }
  std::vector<Token> toks;
  Lexer lexer(text);
  if (!lexer.Run(&toks)) {
    return Error(ErrorCode::kInvalidInput,
                 Where(text, lexer.error_pos()) + ": " + lexer.error());
  }
  Parser parser(text, std::move(toks), options);
  AstPtr root = parser.ParseAll();
  if (!root) {
    return Error(parser.limit_hit() ? ErrorCode::kLimitExceeded
                                    : ErrorCode::kInvalidInput,
                 Where(text, parser.error_pos()) + ": " + parser.error());
  }
  Expression e;
  e.text_ = std::string(text);
  e.ast_ = std::shared_ptr<const Ast>(std::move(root));
  e.regex_cache_ = std::make_shared<RegexCache>();
  return e;
}

}  // namespace genogate::fhirpath
