#!/usr/bin/env bash
# gitops-checks on a pull request to either repository, for Jenkins and Bitbucket Pipelines alike.
#
#   ci/pr-checks.sh prepare            check out the other repository: the branch named like the PR's
#                                      source branch when it has one (a paired PR), else its default branch
#   ci/pr-checks.sh args               print the revision options for python -m checks, one per line
#   ci/pr-checks.sh run [OPTION...]    python -m checks with those options and OPTION...
#   ci/pr-checks.sh diff [OPTION...]   python -m checks diff with those options and OPTION...
#   ci/pr-checks.sh publish [OPTION...] the run, posting status / Code Insights / PR comment to the
#                                      repository and commit under review
#
# Every value comes from the environment and is always quoted (never interpolated into a command):
#   UNDER_REVIEW        customer-configs | platform-infrastructure (the repository of the pull request)
#   PR_SOURCE_BRANCH    the PR's source branch (empty: not a pull request, the last commit is checked)
#   PR_TARGET_BRANCH    the branch it merges into
#   PR_ID               the pull request id (publish: the PR comment)
#   CONFIGS_DIR, INFRA_DIR   the two checkouts (default customer-configs, platform-infrastructure)
#   OTHER_DEFAULT_BRANCH     the other repository's default branch (default main)
#   CHECKS_PYTHON       the Python with gitops-checks installed (default python3)
#   STATE_FILE          where prepare records the pairing (default out/pairing.env)
#   OTHER_URL           clone URL of the other repository, when prepare has to clone it
#   GIT_USER, GIT_PASS  credentials for fetching and cloning (optional; given to git by a credential helper)
# In Bitbucket Pipelines, BITBUCKET_REPO_SLUG, BITBUCKET_BRANCH, BITBUCKET_PR_DESTINATION_BRANCH and
# BITBUCKET_PR_ID give the same (the build's clone is the repository under review, the other goes next to it).
set -euo pipefail

# Bitbucket Pipelines: the repository under review is the build's own clone; the other one goes next to it
if [ -z "${UNDER_REVIEW:-}" ] && [ -n "${BITBUCKET_REPO_SLUG:-}" ]; then
    UNDER_REVIEW="$BITBUCKET_REPO_SLUG"
    PR_SOURCE_BRANCH="${PR_SOURCE_BRANCH:-${BITBUCKET_BRANCH:-}}"
    PR_TARGET_BRANCH="${PR_TARGET_BRANCH:-${BITBUCKET_PR_DESTINATION_BRANCH:-}}"
    PR_ID="${PR_ID:-${BITBUCKET_PR_ID:-}}"
    if [ "$UNDER_REVIEW" = customer-configs ]; then
        CONFIGS_DIR="${CONFIGS_DIR:-.}"; INFRA_DIR="${INFRA_DIR:-../platform-infrastructure}"
    else
        CONFIGS_DIR="${CONFIGS_DIR:-../customer-configs}"; INFRA_DIR="${INFRA_DIR:-.}"
    fi
    # outside the clone: an untracked file in it would be part of the change under review
    STATE_FILE="${STATE_FILE:-../gitops-checks-pairing.env}"
fi
CONFIGS_DIR="${CONFIGS_DIR:-customer-configs}"
INFRA_DIR="${INFRA_DIR:-platform-infrastructure}"
OTHER_DEFAULT_BRANCH="${OTHER_DEFAULT_BRANCH:-main}"
CHECKS_PYTHON="${CHECKS_PYTHON:-python3}"
STATE_FILE="${STATE_FILE:-out/pairing.env}"
PR_SOURCE_BRANCH="${PR_SOURCE_BRANCH:-}"
PR_TARGET_BRANCH="${PR_TARGET_BRANCH:-}"
PR_ID="${PR_ID:-}"

die() { echo "pr-checks: $*" >&2; exit 2; }

case "${UNDER_REVIEW:-}" in
    customer-configs) review_dir="$CONFIGS_DIR"; other_dir="$INFRA_DIR"; other=platform-infrastructure ;;
    platform-infrastructure) review_dir="$INFRA_DIR"; other_dir="$CONFIGS_DIR"; other=customer-configs ;;
    *) die "UNDER_REVIEW must be customer-configs or platform-infrastructure, not '${UNDER_REVIEW:-}'" ;;
esac

valid_branch() { git check-ref-format --branch "$1" >/dev/null 2>&1; }
for b in "$PR_SOURCE_BRANCH" "$PR_TARGET_BRANCH"; do
    [ -z "$b" ] || valid_branch "$b" || die "not a branch name: '$b'"
done
valid_branch "$OTHER_DEFAULT_BRANCH" || die "not a branch name: '$OTHER_DEFAULT_BRANCH'"
case "$PR_ID" in ''|*[!0-9]*) [ -z "$PR_ID" ] || die "PR_ID must be a number" ;; esac

# fetches and clones with GIT_USER/GIT_PASS when set (Jenkins' withCredentials): a credential helper
# reads them from the environment when git asks, so they never appear in a URL, an argument or a log
remote_git() {
    if [ -n "${GIT_USER:-}" ]; then
        git -c credential.helper= \
            -c 'credential.helper=!f() { echo "username=${GIT_USER}"; echo "password=${GIT_PASS}"; }; f' "$@"
    else
        git "$@"
    fi
}

prepare() {
    mkdir -p "$(dirname "$STATE_FILE")"
    if [ ! -e "$other_dir/.git" ]; then
        [ -n "${OTHER_URL:-}" ] || die "$other_dir is not a checkout of $other and OTHER_URL is not set"
        remote_git clone --quiet --no-checkout "$OTHER_URL" "$other_dir"
    fi
    remote_git -C "$other_dir" fetch --quiet origin "+refs/heads/*:refs/remotes/origin/*"
    if [ "$UNDER_REVIEW" = customer-configs ]; then
        # every branch: a multi-source Application's `$values` ref may name another branch than the target
        remote_git -C "$review_dir" fetch --quiet origin "+refs/heads/*:refs/remotes/origin/*"
    elif [ -n "$PR_TARGET_BRANCH" ]; then
        remote_git -C "$review_dir" fetch --quiet origin "+refs/heads/$PR_TARGET_BRANCH:refs/remotes/origin/$PR_TARGET_BRANCH"
    fi
    local paired=0 pairing
    if [ -n "$PR_SOURCE_BRANCH" ] && [ "$PR_SOURCE_BRANCH" != "$OTHER_DEFAULT_BRANCH" ] \
            && git -C "$other_dir" rev-parse --verify --quiet "refs/remotes/origin/$PR_SOURCE_BRANCH^{commit}" >/dev/null; then
        git -C "$other_dir" checkout --quiet --detach "refs/remotes/origin/$PR_SOURCE_BRANCH"
        paired=1
        pairing="paired: $other branch $PR_SOURCE_BRANCH ($(git -C "$other_dir" rev-parse --short=12 HEAD)) with $UNDER_REVIEW $PR_SOURCE_BRANCH"
    else
        git -C "$other_dir" checkout --quiet --detach "refs/remotes/origin/$OTHER_DEFAULT_BRANCH"
        pairing="unpaired: $other at its default branch $OTHER_DEFAULT_BRANCH ($(git -C "$other_dir" rev-parse --short=12 HEAD))"
    fi
    # one value per line, read back by `args` without evaluating anything
    printf '%s\n%s\n' "$paired" "$pairing" > "$STATE_FILE"
    echo "pr-checks: $pairing"
}

revision_args() {
    [ -f "$STATE_FILE" ] || die "run 'ci/pr-checks.sh prepare' first ($STATE_FILE missing)"
    local paired pairing review_base
    { IFS= read -r paired; IFS= read -r pairing; } < "$STATE_FILE"
    review_base="HEAD~1"
    [ -z "$PR_TARGET_BRANCH" ] || review_base="origin/$PR_TARGET_BRANCH"
    printf '%s\n' --configs "$CONFIGS_DIR" --infra "$INFRA_DIR"
    if [ "$UNDER_REVIEW" = customer-configs ]; then
        printf '%s\n' --base "$review_base"
        # paired: the other branch's own changes are part of the review too
        [ "$paired" != 1 ] || printf '%s\n' --infra-base "origin/$OTHER_DEFAULT_BRANCH"
    else
        printf '%s\n' --infra-base "$review_base"
        [ "$paired" != 1 ] || printf '%s\n' --base "origin/$OTHER_DEFAULT_BRANCH"
    fi
}

# The branch the customer-configs checkout stands for once merged: `$values` refs naming it read the
# checkout, others are read from git (GITOPS_CHECKS_BRANCH; one set by the caller wins).
configs_branch() {
    if [ "$UNDER_REVIEW" = customer-configs ] && [ -n "$PR_TARGET_BRANCH" ]; then
        printf '%s' "$PR_TARGET_BRANCH"
    else
        printf '%s' "$OTHER_DEFAULT_BRANCH"
    fi
}

checks() {
    local args=() line
    while IFS= read -r line; do args+=("$line"); done < <(revision_args)
    GITOPS_CHECKS_BRANCH="${GITOPS_CHECKS_BRANCH:-$(configs_branch)}" "$CHECKS_PYTHON" -m checks "$@" "${args[@]}"
}

command="${1:-}"
[ $# -eq 0 ] || shift
case "$command" in
    prepare) prepare ;;
    args) revision_args ;;
    run)
        pairing="$(sed -n 2p "$STATE_FILE" 2>/dev/null || true)"
        checks run --pairing "$pairing" "$@" ;;
    diff) checks diff "$@" ;;
    publish)
        pairing="$(sed -n 2p "$STATE_FILE" 2>/dev/null || true)"
        commit="$(git -C "$review_dir" rev-parse HEAD)"
        extra=(--report bitbucket --bitbucket-repo "$UNDER_REVIEW" --commit "$commit")
        [ -z "$PR_ID" ] || extra+=(--pr "$PR_ID")
        checks run --pairing "$pairing" "${extra[@]}" "$@" ;;
    *) die "usage: ci/pr-checks.sh prepare|args|run|diff|publish [OPTION...]" ;;
esac
