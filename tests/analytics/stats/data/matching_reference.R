# Reference values of tests/analytics/stats/test_matching*.py (run by hand; tests never need R).
#
# R 4.2.2, survival 3.5-3, MatchIt 4.5.1 (Debian) *with two upstream fixes applied*, because
# 4.5.1's src/nn_matchC_vec.cpp calls abs() on doubles, which this build resolves to the integer
# abs(): every |distance| < 1 becomes 0, so the caliper is not enforced AND the lower-score
# neighbour always wins against a nearer higher-score one (on lalonde, 6 of 185 pairs of the
# default match differ from MatchIt's method). Fixes applied to the 4.5.1 source
# (github.com/kosukeimai/MatchIt at 9762dc6, DESCRIPTION Version 4.5.1) before
# `R CMD INSTALL -l /tmp/Rlib_patched`:
#   * abs( -> std::abs( in src/nn_matchC_vec.cpp (upstream 4.5.4, issue #163);
#   * the match matrix holds 0-based indices while matching, +1 (and rownames) at the end
#     (upstream 4.5.3, commit c4d6401: with replace = TRUE and ratio > 1, 4.5.1 compared
#     0-based with 1-based indices and matched the same control k times).
# matching_lalonde.csv was written by the first block (MatchIt's lalonde, race as two 0/1
# columns, a synthetic survival outcome).
.libPaths(c("/tmp/Rlib_patched", .libPaths()))
suppressMessages({library(MatchIt); library(survival)})

if (FALSE) {
  data(lalonde)
  set.seed(20261201)
  d <- data.frame(id = seq_len(nrow(lalonde)), treat = lalonde$treat, age = lalonde$age,
    educ = lalonde$educ, black = as.integer(lalonde$race == "black"),
    hispan = as.integer(lalonde$race == "hispan"), married = lalonde$married,
    nodegree = lalonde$nodegree, re74 = lalonde$re74, re75 = lalonde$re75)
  rate <- 0.03 * exp(-0.4 * d$treat + 0.02 * (d$age - 25) + 0.3 * d$nodegree)
  t_event <- rexp(nrow(d), rate)
  t_cens <- runif(nrow(d), 6, 60)
  d$months <- round(pmax(pmin(t_event, t_cens), 0.1), 1)
  d$death <- as.integer(t_event <= t_cens)
  write.csv(d, "matching_lalonde.csv", row.names = FALSE)
}

d <- read.csv("matching_lalonde.csv")
rownames(d) <- d$id
f <- treat ~ age + educ + black + hispan + married + nodegree + re74 + re75
num <- function(x) ifelse(is.na(x), "nan", formatC(x, digits = 12, format = "g"))
pairs <- list()
keep <- function(label, m) {
  mm <- m$match.matrix
  for (k in seq_len(ncol(mm))) {
    ok <- !is.na(mm[, k])
    pairs[[length(pairs) + 1]] <<- data.frame(case = label, treated_id = rownames(mm)[ok],
                                              control_id = mm[ok, k], round = k)
  }
}
show <- function(label, m) {
  s <- summary(m)
  cat("=====", label, "\n")
  for (nm in c("sum.all", "sum.matched")) {
    M <- s[[nm]]
    cat(nm, "\n")
    for (i in seq_len(nrow(M))) {
      cat(sprintf('    "%s": (%s),\n', rownames(M)[i], paste(num(M[i, 1:6]), collapse = ", ")))
    }
  }
  print(s$nn, digits = 12)
}
nn <- function(label, ...) {
  m <- matchit(f, data = d, method = "nearest", distance = "glm", link = "linear.logit", ...)
  keep(label, m)
  m
}
m <- nn("largest")
show("largest", m)
print(coef(m$model), digits = 12)
md <- match.data(m)
fit <- coxph(Surv(months, death) ~ treat, data = md, cluster = subclass)
print(c(coef = coef(fit), robust_se = sqrt(diag(fit$var)), naive_se = sqrt(diag(fit$naive.var))),
      digits = 12)
X <- cbind(distance = m$distance, as.matrix(d[, all.vars(f)[-1]]))
for (j in colnames(X)) {  # MatchIt's "pooled" denominator (its ATE one) for the ATT match
  b <- MatchIt:::bal1var(X[, j], tt = d$treat, ww = NULL, s.weights = rep(1, nrow(d)),
                         s.d.denom = "pooled", standardize = TRUE)
  a <- MatchIt:::bal1var(X[, j], tt = d$treat, ww = m$weights, s.weights = rep(1, nrow(d)),
                         s.d.denom = "pooled", standardize = TRUE, compute.pair.dist = FALSE)
  cat(sprintf('    "%s": (%s, %s),\n', j, num(b[3]), num(a[3])))
}
nn("smallest", m.order = "smallest")
nn("data", m.order = "data")
show("ratio2", nn("ratio2", ratio = 2))
m <- nn("replace", replace = TRUE)
show("replace", m)
print(m$weights[m$weights > 0 & d$treat == 0], digits = 12)
show("replace_ratio3", nn("replace_ratio3", replace = TRUE, ratio = 3))
nn("exact_married", exact = ~married)
m <- matchit(treat ~ black + married + nodegree, data = d, distance = "glm", link = "linear.logit")
keep("ties", m)
m <- nn("caliper", caliper = 0.1)
cat("caliper", num(m$caliper), num(0.1 * sd(m$distance)), "\n")
show("caliper", m)
# order "random" with seed 7 = this permutation of the treated (numpy default_rng(7)); R's
# own sample() cannot be reproduced, so the data are put in that order and matched in order.
perm <- as.integer(strsplit(readLines("matching_random_seed7_order.txt"), ",")[[1]])
d7 <- d[c(as.character(perm), rownames(d)[d$treat == 0]), ]
m <- matchit(f, data = d7, distance = "glm", link = "linear.logit", m.order = "data")
keep("random_seed7", m)
write.csv(do.call(rbind, pairs), "matching_lalonde_r_pairs.csv", row.names = FALSE)
