#!/bin/sh
# Swaps the vendor's certificate in a UPM trust store (upmconfig/truststore):
#   1. removes every file that holds a certificate listed in remove.sha256, found by its
#      SHA-256 fingerprint whatever the file is called (PEM or DER);
#   2. adds the certificates of this kit's upmconfig/truststore/ folder.
# It checks first and changes nothing when something is in the way.
#
# Usage: sudo sh apply-linux.sh <home>/upmconfig/truststore
# Needs: a POSIX sh and openssl. Made by Countersign; the same script in every kit, the
# fingerprints are in remove.sha256 beside it.
set -eu

me=apply-linux.sh
kit=$(cd "$(dirname "$0")" && pwd)
new_dir="$kit/upmconfig/truststore"
list="$kit/remove.sha256"

say() { printf '%s\n' "$*"; }
fail() {
    printf '%s: %s\n' "$me" "$2" >&2
    exit "$1"
}

[ $# -eq 1 ] || fail 2 "give the trust-store folder, e.g.: sudo sh $me /var/atlassian/application-data/jira/upmconfig/truststore"
store=$1
[ -d "$store" ] || fail 2 "$store is not a folder. Give the upmconfig/truststore folder."
[ -r "$list" ] || fail 2 "$list is missing. Run the script from the unpacked kit."
[ -d "$new_dir" ] || fail 2 "$new_dir is missing. Run the script from the unpacked kit."
command -v openssl >/dev/null 2>&1 || fail 2 "openssl is not installed; install it (e.g. apt-get install openssl) and run again."

# The fingerprints to remove, upper case, without colons: one a line.
wanted=$(grep -v '^[[:space:]]*#' "$list" | awk 'NF { print $1 }' | tr -d ':' | tr 'abcdef' 'ABCDEF')
[ -n "$wanted" ] || fail 2 "$list lists no fingerprint."

# SHA-256 fingerprint of the certificate in file $1 (PEM, else DER), upper case without
# colons; fails when the file holds no certificate.
fingerprint() {
    out=$(openssl x509 -in "$1" -noout -fingerprint -sha256 2>/dev/null) ||
        out=$(openssl x509 -inform DER -in "$1" -noout -fingerprint -sha256 2>/dev/null) ||
        return 1
    printf '%s\n' "${out#*=}" | tr -d ':' | tr 'abcdef' 'ABCDEF'
}

# True when file $1 holds a certificate to remove.
to_remove() {
    fp=$(fingerprint "$1") || return 1
    printf '%s\n' "$wanted" | grep -qx "$fp"
}

# First, check: a file of the kit whose name is taken in the store by another file that
# stays would be replaced; stop before changing anything.
for new in "$new_dir"/*; do
    [ -f "$new" ] || continue
    there="$store/$(basename "$new")"
    if [ -e "$there" ] && ! cmp -s "$new" "$there" && ! to_remove "$there"; then
        fail 1 "$there holds another certificate than the kit's $(basename "$new"). Move it aside, then run again; nothing was changed."
    fi
done

removed=0
for f in "$store"/* "$store"/.[!.]*; do
    [ -f "$f" ] || continue
    if to_remove "$f"; then
        rm -f "$f"
        say "Removed $f (an old certificate, SHA-256 $fp)."
        removed=$((removed + 1))
    fi
done
[ "$removed" -gt 0 ] || say "No old certificate was in $store (removed before?)."
# The names the old certificates were delivered under, when a file there holds another one.
grep -v '^[[:space:]]*#' "$list" | sed -n 's/^[^[:space:]]*[[:space:]][[:space:]]*//p' |
    while IFS= read -r name; do
        if [ -n "$name" ] && [ -f "$store/$name" ] && [ ! -f "$new_dir/$name" ]; then
            say "Kept $store/$name: it has an old certificate's file name but holds another certificate. Check whether it is still needed."
        fi
    done

for new in "$new_dir"/*; do
    [ -f "$new" ] || continue
    name=$(basename "$new")
    there="$store/$name"
    if [ -e "$there" ] && cmp -s "$new" "$there"; then
        say "Kept $there: it is the kit's $name already."
        continue
    fi
    temp="$store/.$name.part"
    cp "$new" "$temp"
    chmod 644 "$temp"
    if [ "$(id -u)" -eq 0 ]; then chown root:root "$temp"; fi
    mv -f "$temp" "$there"
    say "Added $there."
done

# Old certificates under any name must be gone now.
for f in "$store"/* "$store"/.[!.]*; do
    [ -f "$f" ] || continue
    if to_remove "$f"; then fail 1 "$f still holds an old certificate. Remove it by hand."; fi
done
say "Done: UPM picks up the change without a restart."
