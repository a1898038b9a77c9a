# Sourced by the scripts that make a Python venv of pinned packages
# (scripts/differential.sh, scripts/langserve/setup.sh,
# scripts/langgraph-sdk/setup.sh).
#
# pinned_venv VENV REQUIREMENTS
#   Makes VENV from PyPI with the exact versions REQUIREMENTS lists
#   (`pip install --no-deps`: the file is a whole freeze), unless VENV was
#   made from the same file already. Installs Debian's python3-venv when the
#   Python ($PYTHON, default python3) has no venv module.
pinned_venv() {
    local venv=$1 requirements=$2 python=${PYTHON:-python3}
    local stamp="$venv/.requirements"
    if [ -x "$venv/bin/python" ] && cmp -s "$requirements" "$stamp"; then
        return
    fi
    if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
        apt-get install -y -q python3-venv >/dev/null
    fi
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check --no-deps -r "$requirements"
    cp "$requirements" "$stamp"
}
