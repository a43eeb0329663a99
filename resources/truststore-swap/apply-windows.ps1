# Swaps the vendor's certificate in a UPM trust store (upmconfig\truststore):
#   1. removes every file that holds a certificate listed in remove.sha256, found by its
#      SHA-256 fingerprint whatever the file is called (PEM or DER);
#   2. adds the certificates of this kit's upmconfig\truststore\ folder.
# It checks first and changes nothing when something is in the way.
#
# Usage (PowerShell as Administrator):
#   powershell -ExecutionPolicy Bypass -File apply-windows.ps1 "<home>\upmconfig\truststore"
# Needs Windows PowerShell 5.1 with .NET Framework 4.8, or PowerShell 7. Made by Countersign.
param([Parameter(Mandatory = $true)][string]$TrustStore)
$ErrorActionPreference = 'Stop'

function Fail([int]$Code, [string]$Message) {
    [Console]::Error.WriteLine("apply-windows.ps1: $Message")
    exit $Code
}

# SHA-256 of the certificate in a file (PEM or DER), upper-case hex; $null when it holds none.
function Get-CertSha256([string]$Path) {
    try {
        $cert = New-Object System.Security.Cryptography.X509Certificates.X509Certificate2 -ArgumentList $Path
        return $cert.GetCertHashString([System.Security.Cryptography.HashAlgorithmName]::SHA256)
    } catch {
        return $null
    }
}

$kit = $PSScriptRoot
$newDir = Join-Path $kit 'upmconfig\truststore'
$list = Join-Path $kit 'remove.sha256'
if (-not (Test-Path -LiteralPath $TrustStore -PathType Container)) {
    Fail 2 "$TrustStore is not a folder. Give the upmconfig\truststore folder."
}
# A full path: .NET reads files relative to the process's folder, not PowerShell's.
$TrustStore = (Resolve-Path -LiteralPath $TrustStore).Path
if (-not (Test-Path -LiteralPath $list) -or -not (Test-Path -LiteralPath $newDir)) {
    Fail 2 "Run the script from the unpacked kit: remove.sha256 or upmconfig\truststore is missing."
}

# The fingerprints to remove, upper case without colons.
$wanted = @{}
foreach ($line in Get-Content -LiteralPath $list) {
    $line = $line.Trim()
    if ($line -eq '' -or $line.StartsWith('#')) { continue }
    $fp = ($line -split '\s+', 2)[0].Replace(':', '').ToUpperInvariant()
    $wanted[$fp] = $true
}
if ($wanted.Count -eq 0) { Fail 2 "$list lists no fingerprint." }

function Test-ToRemove([string]$Path) {
    $fp = Get-CertSha256 $Path
    return ($null -ne $fp) -and $wanted.ContainsKey($fp.ToUpperInvariant())
}

$newFiles = @(Get-ChildItem -LiteralPath $newDir -File)

# First, check: a kit file whose name is taken in the store by another file that stays.
foreach ($new in $newFiles) {
    $there = Join-Path $TrustStore $new.Name
    if ((Test-Path -LiteralPath $there) -and
        ((Get-FileHash -LiteralPath $there).Hash -ne (Get-FileHash -LiteralPath $new.FullName).Hash) -and
        -not (Test-ToRemove $there)) {
        Fail 1 "$there holds another certificate than the kit's $($new.Name). Move it aside, then run again; nothing was changed."
    }
}

$removed = 0
foreach ($f in @(Get-ChildItem -LiteralPath $TrustStore -File -Force)) {
    if (Test-ToRemove $f.FullName) {
        Remove-Item -LiteralPath $f.FullName -Force
        Write-Output "Removed $($f.FullName) (an old certificate)."
        $removed++
    }
}
if ($removed -eq 0) { Write-Output "No old certificate was in $TrustStore (removed before?)." }

foreach ($new in $newFiles) {
    Copy-Item -LiteralPath $new.FullName -Destination (Join-Path $TrustStore $new.Name) -Force
    Write-Output "Added $(Join-Path $TrustStore $new.Name)."
}

foreach ($f in @(Get-ChildItem -LiteralPath $TrustStore -File -Force)) {
    if (Test-ToRemove $f.FullName) { Fail 1 "$($f.FullName) still holds an old certificate. Remove it by hand." }
}
Write-Output 'Done: UPM picks up the change without a restart.'
