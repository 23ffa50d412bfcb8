#!/bin/sh
# Installs the Debian packages the test-suite drives: Chromium (browser tests through
# Playwright; `playwright install` cannot download browsers here) and poppler-utils (PDF pages
# rendered to PNG). WeasyPrint's Pango is part of the base image on Debian; listed for safety.
set -e
need=""
command -v chromium >/dev/null 2>&1 || need="$need chromium"
command -v pdftoppm >/dev/null 2>&1 || need="$need poppler-utils"
ldconfig -p 2>/dev/null | grep -q libpango-1.0 || need="$need libpango-1.0-0 libpangoft2-1.0-0"
[ -z "$need" ] && exit 0
if [ "$(id -u)" != "0" ]; then
  SUDO=sudo
fi
echo "Installing Debian packages:$need"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need
