# Sourced by the scripts that fetch Debian packages or debootstrap a root: where from.

# apt_mirror: the Debian mirror this machine's own apt sources name for its main suite (as apt
# reads them: sources.list and deb822 .sources), or $DEBIAN_MIRROR when set. No mirror host is
# written into the repository.
apt_mirror() {
  if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
  local uri
  uri=$(apt-get indextargets --format '$(REPO_URI) $(SUITE) $(TARGET_OF)' 2>/dev/null \
    | awk '$3 == "deb" && $2 !~ /-(security|updates|backports)$/ { print $1; exit }')
  if [ -z "$uri" ]; then
    echo "no Debian mirror in this machine's apt sources (set DEBIAN_MIRROR=URL)" >&2
    return 1
  fi
  echo "${uri%/}"
}
