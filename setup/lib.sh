# shellcheck shell=bash
# Shared helpers for setup/test and setup/run. Source it, don't execute it.
# Safe under `set -euo pipefail`.
#
# Environment knobs:
#   ODOO_PATH          Odoo 18.0 source tree to use (else /opt/odoo, else the
#                      venv's importable odoo, else a download into the cache)
#   DS_ADDONS          comma separated addons to install/test (default: ours)
#   DS_PG_PORT         port of the private PostgreSQL cluster (default 54329)
#   PGHOST/PGPORT/PGUSER/PGPASSWORD or ODOO_RC (db_host...): use that server
#   DS_SKIP_LINT=1     skip ruff/pylint (setup/test)
#   DS_ALLOW_SKIP=1    allow skipped tests (setup/test)
#   DS_TEST_HTTP_PORT  http_port of the test config (default 8169)
#   DS_HTTP_PORT       http port of setup/run (default 8069)

DS_ODOO_SERIES="18.0"
DS_DEFAULT_ADDONS="crm_direct_selling,crm_direct_selling_analytics,crm_direct_selling_portal"
DS_START_TS=${DS_START_TS:-$(date +%s)}

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
VENV="$REPO_ROOT/.venv"
VPY="$VENV/bin/python"
DS_PG_STARTED=0

# ---------------------------------------------------------------- output ---
log() { printf '[setup] %4ss %s\n' "$(($(date +%s) - DS_START_TS))" "$*"; }
warn() { printf '[setup] WARNING: %s\n' "$*" >&2; }
die() {
    printf '[setup] ERROR: %s\n' "$*" >&2
    exit 1
}
# print the tail of a log file to stderr
show_tail() {
    local file=$1 lines=${2:-80}
    [[ -f $file ]] || return 0
    printf '[setup] ---- last %s lines of %s ----\n' "$lines" "$file" >&2
    tail -n "$lines" "$file" >&2 || true
    printf '[setup] ---- end of %s ----\n' "$file" >&2
}
sha() { sha256sum | cut -c1-"${1:-64}"; }
is_root() { [[ $(id -u) -eq 0 ]]; }

# ------------------------------------------------------------ state dirs ---
if is_root; then
    DS_STATE_DIR=${DS_STATE_DIR:-/var/tmp/direct-selling-crm-$(id -u)}
else
    DS_STATE_DIR=${DS_STATE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/direct-selling-crm}
fi
DS_CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/direct-selling-crm"
DS_LOG_DIR="$DS_STATE_DIR/logs"
DS_DATA_DIR="$DS_STATE_DIR/data"
# shellcheck disable=SC2034  # used by the scripts sourcing this file
REPO_HASH=$(printf '%s' "$REPO_ROOT" | sha 8)

ds_init_dirs() {
    mkdir -p "$DS_STATE_DIR" "$DS_LOG_DIR" "$DS_DATA_DIR"
    # the private cluster runs as another user when we are root: let it in
    is_root && chmod 755 "$DS_STATE_DIR"
    return 0
}

# ----------------------------------------------------------------- addons ---
ds_addons_init() {
    local a
    IFS=',' read -r -a DS_ADDON_LIST <<<"${DS_ADDONS:-$DS_DEFAULT_ADDONS}"
    # shellcheck disable=SC2034  # used by the scripts sourcing this file
    DS_ADDONS_CSV=$(
        IFS=,
        echo "${DS_ADDON_LIST[*]}"
    )
    for a in "${DS_ADDON_LIST[@]}"; do
        [[ -f $REPO_ROOT/$a/__manifest__.py ]] ||
            die "addon '$a' has no __manifest__.py at $REPO_ROOT/$a"
    done
}

# ------------------------------------------------------------ system deps ---
# Installs what's missing with apt-get (root only, apt-get update at most once).
ds_ensure_system_deps() {
    local -a missing=()
    local p
    if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null &&
        ! command -v google-chrome >/dev/null && ! command -v google-chrome-stable >/dev/null; then
        missing+=(chromium)
    fi
    command -v wkhtmltopdf >/dev/null || missing+=(wkhtmltopdf)
    for p in fonts-noto-cjk libpq-dev libldap2-dev libsasl2-dev; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null ||
        ! compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null; then
        missing+=(postgresql)
    fi
    for p in psql createdb dropdb pg_isready; do
        if ! command -v "$p" >/dev/null; then
            missing+=(postgresql-client)
            break
        fi
    done
    # compilers/headers for the sdists in Odoo's requirements (psycopg2, ldap)
    command -v gcc >/dev/null || missing+=(build-essential)
    if ! command -v python3.11 >/dev/null && ! command -v python3 >/dev/null; then
        missing+=(python3 python3-venv python3-dev)
    elif [[ $(command -v python3.11 || command -v python3) == /usr/bin/* ]]; then
        dpkg -s python3-venv >/dev/null 2>&1 || missing+=(python3-venv)
        dpkg -s python3-dev >/dev/null 2>&1 || missing+=(python3-dev)
    fi
    if ((${#missing[@]} == 0)); then
        log "system packages present"
        return 0
    fi
    if ! is_root; then
        die "missing system packages: ${missing[*]}
        install them with: sudo apt-get update && sudo apt-get install -y ${missing[*]}"
    fi
    command -v apt-get >/dev/null || die "missing system packages (${missing[*]}) and no apt-get"
    log "installing system packages: ${missing[*]}"
    local aptlog="$DS_LOG_DIR/apt.log"
    if ! {
        DEBIAN_FRONTEND=noninteractive apt-get update -q &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    } >"$aptlog" 2>&1; then
        show_tail "$aptlog" 40
        die "apt-get install ${missing[*]} failed"
    fi
}

# ------------------------------------------------------------------- odoo ---
_odoo_tree_ok() { [[ -f $1/odoo/release.py && -d $1/odoo/addons ]]; }

_odoo_download() {
    local dest=$1 tmp
    mkdir -p "$(dirname "$dest")"
    tmp=$(mktemp -d "$(dirname "$dest")/.odoo-download.XXXXXX")
    log "downloading Odoo $DS_ODOO_SERIES Community into $dest (one-off, large)"
    if command -v curl >/dev/null &&
        curl -fsSL --retry 2 --connect-timeout 20 \
            "https://github.com/odoo/odoo/archive/refs/heads/$DS_ODOO_SERIES.tar.gz" |
        tar -xz -C "$tmp" --strip-components=1 2>/dev/null && _odoo_tree_ok "$tmp"; then
        :
    else
        rm -rf "$tmp"
        tmp=$(mktemp -d "$(dirname "$dest")/.odoo-download.XXXXXX")
        rmdir "$tmp"
        if ! command -v git >/dev/null ||
            ! git clone -q --depth 1 -b "$DS_ODOO_SERIES" https://github.com/odoo/odoo.git "$tmp" 2>/dev/null ||
            ! _odoo_tree_ok "$tmp"; then
            rm -rf "$tmp"
            die "Odoo $DS_ODOO_SERIES not found and could not be downloaded (offline?).
        Set ODOO_PATH to an Odoo $DS_ODOO_SERIES checkout (the directory holding odoo-bin),
        e.g. ODOO_PATH=/path/to/odoo ./setup/test, or put one at /opt/odoo."
        fi
    fi
    rm -rf "$dest"
    mv "$tmp" "$dest"
}

# Sets ODOO (source root) and ODOO_CMD (array: how to launch odoo-bin).
ds_find_odoo() {
    local found="" cached="$DS_CACHE_DIR/odoo-$DS_ODOO_SERIES" venv_odoo
    if [[ -n ${ODOO_PATH:-} ]]; then
        _odoo_tree_ok "$ODOO_PATH" || die "ODOO_PATH=$ODOO_PATH is not an Odoo source tree (no odoo/release.py)"
        found=$ODOO_PATH
    elif _odoo_tree_ok /opt/odoo; then
        found=/opt/odoo
    elif [[ -x $VPY ]] && venv_odoo=$("$VPY" -c 'import importlib.util as u, os; print(os.path.dirname(os.path.dirname(os.path.abspath(u.find_spec("odoo").origin))))' 2>/dev/null) &&
        _odoo_tree_ok "$venv_odoo"; then
        found=$venv_odoo
    elif _odoo_tree_ok "$cached"; then
        found=$cached
    else
        _odoo_download "$cached"
        found=$cached
    fi
    ODOO=$(cd "$found" && pwd -P)
    local version
    version=$(python3 "$REPO_ROOT/setup/ds_helpers.py" odoo-version "$ODOO/odoo/release.py" 2>/dev/null || echo unknown)
    [[ $version == "$DS_ODOO_SERIES" ]] ||
        die "Odoo at $ODOO is version $version, this project needs $DS_ODOO_SERIES (set ODOO_PATH to an Odoo $DS_ODOO_SERIES tree)"
    if [[ -f $ODOO/odoo-bin ]]; then
        ODOO_CMD=("$VPY" "$ODOO/odoo-bin")
    else
        ODOO_CMD=("$VPY" -m odoo)
    fi
    ODOO_ADDONS_PATH="$ODOO/odoo/addons"
    [[ -d $ODOO/addons ]] && ODOO_ADDONS_PATH+=",$ODOO/addons"
    log "Odoo $version at $ODOO"
}

# ------------------------------------------------------------------- venv ---
_find_python() {
    local py
    for py in python3.11 python3.12 python3.10 python3; do
        if command -v "$py" >/dev/null &&
            "$py" -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 12))' 2>/dev/null; then
            command -v "$py"
            return 0
        fi
    done
    return 1
}

ds_ensure_venv() {
    local py constraint stamp_file="$VENV/.ds-stamp" stamp
    if [[ ! -x $VPY ]] || ! "$VPY" -c 'import sys' 2>/dev/null; then
        py=$(_find_python) || die "no Python 3.10-3.12 found (Odoo $DS_ODOO_SERIES needs one; python3.11 preferred)"
        log "creating $VENV with $py"
        rm -rf "$VENV"
        "$py" -m venv "$VENV" || die "python -m venv failed (apt-get install python3-venv?)"
    fi
    # setuptools<80 for sdist build environments, plus the machine-wide
    # constraints pip would otherwise read from its config (PIP_CONSTRAINT
    # replaces the config value, so merge them).
    constraint="$DS_STATE_DIR/pip-constraints.txt"
    {
        echo "setuptools<80"
        [[ -f /etc/xdg/pip/constraints.txt ]] && cat /etc/xdg/pip/constraints.txt
        if [[ -n ${PIP_CONSTRAINT:-} && -f ${PIP_CONSTRAINT} && ${PIP_CONSTRAINT} != "$constraint" ]]; then
            cat "$PIP_CONSTRAINT"
        fi
        true
    } >"$constraint.tmp"
    mv "$constraint.tmp" "$constraint"
    stamp=$({
        cat "$ODOO/requirements.txt" 2>/dev/null || true
        cat "$REPO_ROOT/requirements.txt"
        cat "$constraint"
        "$VPY" -c 'import sys; print(sys.version)'
        echo "$ODOO"
    } | sha)
    if [[ -f $stamp_file && $(cat "$stamp_file") == "$stamp" ]]; then
        log "venv up to date (.venv)"
    else
        log "installing Python requirements into .venv (log: $DS_LOG_DIR/pip.log)"
        local -a reqs=(-r "$REPO_ROOT/requirements.txt")
        [[ -f $ODOO/requirements.txt ]] && reqs=(-r "$ODOO/requirements.txt" "${reqs[@]}")
        if ! PIP_CONSTRAINT="$constraint" "$VPY" -m pip install -q --disable-pip-version-check \
            "${reqs[@]}" >"$DS_LOG_DIR/pip.log" 2>&1; then
            show_tail "$DS_LOG_DIR/pip.log" 60
            die "pip install failed"
        fi
        echo "$stamp" >"$stamp_file"
    fi
    # make `import odoo` work (pytest-odoo, pylint) without pip-installing it
    local site pth
    site=$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    pth="$site/ds-odoo-path.pth"
    if [[ ! -f $pth || $(cat "$pth") != "$ODOO" ]]; then
        echo "$ODOO" >"$pth"
    fi
    local got
    got=$("$VPY" -c 'import importlib.util as u, os; print(os.path.dirname(os.path.dirname(os.path.abspath(u.find_spec("odoo").origin))))' 2>/dev/null) ||
        die "odoo is not importable from $VPY"
    [[ $(cd "$got" && pwd -P) == "$ODOO" ]] ||
        die "the venv imports odoo from $got, not $ODOO (pip uninstall odoo from .venv?)"
}

# ------------------------------------------------------------- postgresql ---
# After ds_ensure_pg: PGHOST/PGPORT/PGUSER (+PGPASSWORD) exported for the
# psql/createdb tools, and DB_HOST/DB_PORT/DB_USER/DB_PASSWORD for Odoo.
_pg_answers() {
    pg_isready -q -t 5 >/dev/null 2>&1 &&
        psql -X -q -At -d postgres -c 'select 1' >/dev/null 2>&1
}

_pg_bin() {
    local d best="" best_v=0 v
    for d in /usr/lib/postgresql/*/bin; do
        [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]] || continue
        v=$(basename "$(dirname "$d")")
        v=${v%%.*}
        if [[ $v =~ ^[0-9]+$ ]] && ((v > best_v)); then
            best_v=$v
            best=$d
        fi
    done
    [[ -n $best ]] || best=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/x)")
    [[ -x $best/initdb ]] || return 1
    echo "$best"
}

# run a command as the cluster owner
_as_pg_owner() {
    if is_root; then
        (cd / && runuser -u "$DS_PG_OWNER" -- "$@")
    else
        "$@"
    fi
}

ds_ensure_pg() {
    local mode="" rc_vars
    # 1. ODOO_RC with db_* settings
    if [[ -n ${ODOO_RC:-} ]] && rc_vars=$(python3 "$REPO_ROOT/setup/ds_helpers.py" odoo-rc) && [[ -n $rc_vars ]]; then
        local k v
        while IFS='=' read -r k v; do
            case $k in
                db_host) export PGHOST=$v ;;
                db_port) export PGPORT=$v ;;
                db_user) export PGUSER=$v ;;
                db_password) export PGPASSWORD=$v ;;
            esac
        done <<<"$rc_vars"
        mode="ODOO_RC $ODOO_RC"
    elif [[ -n ${PGHOST:-}${PGPORT:-}${PGUSER:-} ]]; then
        mode="PG* environment"
    fi
    if [[ -n $mode ]]; then
        if _pg_answers; then
            if [[ ${PGUSER:-$(id -un)} == postgres ]]; then
                # Odoo refuses to run as `postgres`: use/create an `odoo` role
                psql -X -q -d postgres -c "DO \$\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='odoo') THEN CREATE ROLE odoo LOGIN SUPERUSER; END IF; END\$\$" >/dev/null 2>&1 || true
                PGUSER=odoo _pg_answers ||
                    die "PostgreSQL user is 'postgres', which Odoo refuses; create a superuser role for Odoo and set PGUSER to it"
                export PGUSER=odoo
            fi
            DB_HOST=${PGHOST:-}
            DB_PORT=${PGPORT:-}
            DB_USER=${PGUSER:-}
            DB_PASSWORD=${PGPASSWORD:-}
            log "using PostgreSQL from $mode (host=${PGHOST:-default} port=${PGPORT:-default} user=${PGUSER:-$(id -un)})"
            return 0
        fi
        warn "PostgreSQL from $mode does not answer; starting a private cluster instead"
    fi
    ds_private_pg_start
}

ds_private_pg_start() {
    local pgbin pgdir="$DS_STATE_DIR/pg" data sock port=${DS_PG_PORT:-54329} user=odoo
    data="$pgdir/data"
    sock="$pgdir/run"
    pgbin=$(_pg_bin) || die "PostgreSQL server binaries not found (apt-get install postgresql)"
    if is_root; then
        if id postgres >/dev/null 2>&1; then
            DS_PG_OWNER=postgres
        else
            id dscrm >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin dscrm ||
                die "could not create system user dscrm to run PostgreSQL"
            DS_PG_OWNER=dscrm
        fi
    else
        DS_PG_OWNER=$(id -un)
    fi
    mkdir -p "$pgdir" "$sock"
    if is_root; then
        chown "$DS_PG_OWNER" "$pgdir" "$sock"
        if [[ -d $data && $(stat -c %U "$data") != "$DS_PG_OWNER" ]]; then
            chown -R "$DS_PG_OWNER" "$data"
        fi
    fi
    # re-initialise a cluster made by another major version
    if [[ -f $data/PG_VERSION && $(cat "$data/PG_VERSION") != "$("$pgbin/postgres" -V | sed -E 's/.* ([0-9]+).*/\1/')" ]]; then
        warn "private cluster at $data is from PostgreSQL $(cat "$data/PG_VERSION"); re-initialising it"
        _as_pg_owner "$pgbin/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1 || true
        rm -rf "$data"
    fi
    if [[ ! -f $data/PG_VERSION ]]; then
        log "initialising private PostgreSQL cluster in $data"
        rm -rf "$data"
        if ! _as_pg_owner "$pgbin/initdb" -D "$data" -A trust -U "$user" -E UTF8 --locale=C --no-sync \
            >"$DS_LOG_DIR/initdb.log" 2>&1; then
            show_tail "$DS_LOG_DIR/initdb.log" 30
            die "initdb failed"
        fi
        cat >>"$data/postgresql.conf" <<EOF
# direct-selling-crm dev/test cluster
listen_addresses = ''
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 256MB
EOF
    fi
    # bulk writes (volume step, bonus lines: millions of rows) would checkpoint every few
    # seconds with the default 1GB of WAL between checkpoints
    if ! grep -q '^max_wal_size = 8GB' "$data/postgresql.conf"; then
        _as_pg_owner sh -c "echo 'max_wal_size = 8GB' >>'$data/postgresql.conf'" || true
    fi
    # the bonus engine and the volume step work in temp tables of millions of rows: with the
    # default 8MB of local buffers they go through the kernel's files at every pass (local
    # buffers are allocated as a session uses them, so small sessions keep their size)
    local reload=""
    if ! grep -q '^temp_buffers = ' "$data/postgresql.conf"; then
        _as_pg_owner sh -c "echo 'temp_buffers = 1GB' >>'$data/postgresql.conf'" && reload=1
    fi
    # the bonus run writes millions of lines: with 256MB of shared buffers the writing backend
    # evicted and wrote out 800MB of dirty pages itself (1M distributors). Takes effect at the
    # next start of the cluster (the last line of postgresql.conf wins)
    if ! grep -q '^shared_buffers = 2GB' "$data/postgresql.conf"; then
        _as_pg_owner sh -c "echo 'shared_buffers = 2GB' >>'$data/postgresql.conf'" || true
    fi
    export PGHOST="$sock" PGPORT="$port" PGUSER="$user"
    unset PGPASSWORD PGDATABASE
    if _as_pg_owner "$pgbin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        _pg_answers || die "a private cluster runs from $data but does not answer on $sock port $port (DS_PG_PORT changed? stop it: $pgbin/pg_ctl -D $data stop)"
        log "reusing running private PostgreSQL ($sock port $port)"
        [[ -n $reload ]] && _as_pg_owner "$pgbin/pg_ctl" -D "$data" reload >/dev/null 2>&1
    else
        log "starting private PostgreSQL ($sock port $port)"
        if ! _as_pg_owner "$pgbin/pg_ctl" -D "$data" -l "$pgdir/postgresql.log" -w -t 60 \
            -o "-p $port -k $sock -c listen_addresses=''" start >/dev/null 2>&1; then
            show_tail "$pgdir/postgresql.log" 30
            die "could not start PostgreSQL from $data"
        fi
        DS_PG_STARTED=1
        DS_PG_CTL=("$pgbin/pg_ctl" -D "$data")
    fi
    _pg_answers || die "private PostgreSQL does not answer"
    DB_HOST=$sock DB_PORT=$port DB_USER=$user DB_PASSWORD=""
}

# Stop the private cluster if this process started it and nobody else is
# connected. Silent: it runs from EXIT traps.
ds_private_pg_stop() {
    [[ ${DS_PG_STARTED:-0} == 1 ]] || return 0
    DS_PG_STARTED=0
    local others
    others=$(psql -X -At -d postgres -c "select count(*) from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()" 2>/dev/null || echo 0)
    if [[ $others == 0 ]]; then
        _as_pg_owner "${DS_PG_CTL[@]}" -m fast -w stop >/dev/null 2>&1 || true
    fi
    return 0
}

ds_psql() { psql -X -q -At -v ON_ERROR_STOP=1 -d postgres "$@"; }
ds_db_exists() { [[ $(ds_psql -c "select 1 from pg_database where datname = '$1'") == 1 ]]; }
ds_dropdb() {
    if ds_db_exists "$1"; then
        dropdb --if-exists --force "$1"
    fi
    rm -rf "$DS_DATA_DIR/filestore/$1"
}

# ----------------------------------------------------------- odoo config ---
# ds_write_conf <file> <addons_path> <extra lines...>
ds_write_conf() {
    local file=$1 addons_path=$2
    shift 2
    {
        echo "[options]"
        echo "addons_path = $addons_path"
        echo "data_dir = $DS_DATA_DIR"
        echo "db_host = ${DB_HOST:-False}"
        echo "db_port = ${DB_PORT:-False}"
        echo "db_user = ${DB_USER:-False}"
        echo "db_password = ${DB_PASSWORD:-False}"
        echo "admin_passwd = admin"
        echo "list_db = True"
        local line
        for line in "$@"; do echo "$line"; done
    } >"$file.tmp"
    mv "$file.tmp" "$file"
}

# Are all given modules installed in db $1?
ds_modules_installed() {
    local db=$1 csv=$2 n want
    want=$(tr ',' '\n' <<<"$csv" | grep -c .)
    n=$(psql -X -q -At -d "$db" -c "select count(*) from ir_module_module where state = 'installed' and name = any(string_to_array('$csv', ','))" 2>/dev/null || echo 0)
    [[ $n == "$want" ]]
}

# ds_odoo_install <conf> <db> <modules csv> <logfile> [extra odoo args]
# Runs odoo -i ... --stop-after-init; on failure prints the log tail, dies.
ds_odoo_install() {
    local conf=$1 db=$2 mods=$3 logf=$4
    shift 4
    local rc=0
    "${ODOO_CMD[@]}" -c "$conf" -d "$db" -i "$mods" --stop-after-init --no-http \
        --log-level=info --logfile="$logf" "$@" >>"$logf" 2>&1 || rc=$?
    if ((rc != 0)) || grep -qE '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$logf"; then
        grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$logf" | head -n 20 >&2 || true
        show_tail "$logf" 60
        return 1
    fi
    if ! ds_modules_installed "$db" "$mods"; then
        show_tail "$logf" 60
        warn "modules not installed in $db: $mods"
        return 1
    fi
    return 0
}

# ------------------------------------------------------- template database ---
# Sets DS_TEMPLATE_DB; builds it when missing.
ds_ensure_template() {
    local tmpl_conf=$1 deps identity hash
    local -a addon_dirs=()
    local a
    for a in "${DS_ADDON_LIST[@]}"; do addon_dirs+=("$REPO_ROOT/$a"); done
    deps=$(python3 "$REPO_ROOT/setup/ds_helpers.py" deps "${addon_dirs[@]}") ||
        die "could not read the addons' __manifest__.py depends"
    [[ -n $deps ]] || deps=base
    if git -C "$ODOO" rev-parse --is-inside-work-tree >/dev/null 2>&1 &&
        [[ $(git -C "$ODOO" rev-parse --show-toplevel) == "$ODOO" ]]; then
        identity=$(git -C "$ODOO" rev-parse HEAD)
    else
        # cheap: release.py, module list and manifest mtimes
        # shellcheck disable=SC2012  # a cheap fingerprint, not parsing names
        identity=$(cd "$ODOO" && ls -l --time-style=+%s odoo/addons addons 2>/dev/null | sha)
    fi
    hash=$({
        echo "template-v1"
        echo "$deps"
        cat "$ODOO/odoo/release.py"
        echo "$identity"
    } | sha 10)
    DS_TEMPLATE_DB="ds_tmpl_$hash"
    mkdir -p "$DS_STATE_DIR/templates"
    # one builder at a time (concurrent runs of this or another clone)
    local lockfd
    exec {lockfd}>"$DS_STATE_DIR/templates/.lock"
    flock "$lockfd"
    if ds_db_exists "$DS_TEMPLATE_DB"; then
        log "reusing template database $DS_TEMPLATE_DB ($deps)"
    else
        _ds_build_template "$tmpl_conf" "$deps"
    fi
    touch "$DS_STATE_DIR/templates/$DS_TEMPLATE_DB"
    # drop templates this machine has not used for a week (other Odoo trees or
    # dependency lists); templates we know nothing about are left alone
    local old
    for old in $(ds_psql -c "select datname from pg_database where datname ~ '^ds_tmpl_[0-9a-f]+$' and datname <> '$DS_TEMPLATE_DB'"); do
        if [[ -n $(find "$DS_STATE_DIR/templates/$old" -mtime +7 2>/dev/null) ]]; then
            ds_dropdb "$old" >/dev/null 2>&1 || true
            rm -f "$DS_STATE_DIR/templates/$old"
        fi
    done
    flock -u "$lockfd"
    exec {lockfd}>&-
}

_ds_build_template() {
    local tmpl_conf=$1 deps=$2
    local building="${DS_TEMPLATE_DB}_build" logf="$DS_LOG_DIR/$DS_TEMPLATE_DB.log"
    log "building template database $DS_TEMPLATE_DB with: $deps (log: $logf, takes a few minutes)"
    ds_dropdb "$building"
    : >"$logf"
    if ! ds_odoo_install "$tmpl_conf" "$building" "$deps" "$logf" --without-demo=all; then
        die "building the template database failed (see $logf)"
    fi
    # publish it under its final name only once complete
    ds_psql -c "ALTER DATABASE \"$building\" RENAME TO \"$DS_TEMPLATE_DB\"" ||
        die "could not rename $building to $DS_TEMPLATE_DB"
    if [[ -d $DS_DATA_DIR/filestore/$building ]]; then
        rm -rf "$DS_DATA_DIR/filestore/$DS_TEMPLATE_DB"
        mv "$DS_DATA_DIR/filestore/$building" "$DS_DATA_DIR/filestore/$DS_TEMPLATE_DB"
    fi
    log "template database $DS_TEMPLATE_DB ready"
}

# ds_clone_db <template> <db>: drop + createdb -T + copy filestore
ds_clone_db() {
    local tmpl=$1 db=$2
    ds_dropdb "$db"
    createdb -T "$tmpl" "$db" || die "createdb -T $tmpl $db failed"
    if [[ -d $DS_DATA_DIR/filestore/$tmpl ]]; then
        mkdir -p "$DS_DATA_DIR/filestore"
        cp -a "$DS_DATA_DIR/filestore/$tmpl" "$DS_DATA_DIR/filestore/$db"
    fi
}

# --------------------------------------------------------------- bootstrap ---
# Everything both commands need: system packages, Odoo, venv, PostgreSQL.
ds_bootstrap() {
    ds_init_dirs
    ds_addons_init
    ds_ensure_system_deps
    ds_find_odoo
    ds_ensure_venv
    ds_ensure_pg
}
