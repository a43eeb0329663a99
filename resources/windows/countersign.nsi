; The Windows installer, built with NSIS's makensis (Debian's `nsis` package on Linux, or NSIS
; on Windows) from the release binary: .ci/windows-installer does it, and the release
; workflow runs that same script. Nothing is downloaded while it is built.
;
;   makensis -DVERSION=1.2.3 -DEXE=path\to\countersign.exe -DOUTFILE=setup.exe countersign.nsi
;
; It installs for the current user, without administrator rights (a support engineer's
; laptop, a remote session): the program in %LOCALAPPDATA%\Programs\Countersign, a Start-menu
; entry, and an uninstaller in Settings > Apps. `/S` installs and uninstalls silently, as
; group policy and scripts do. Uninstalling leaves the keys in the Credential Manager and the
; data folder (key list, history) in place: reinstalling finds them again. The uninstaller's
; "Also remove my key list and signing history" box, or `/REMOVEDATA` with `/S`, removes the
; data folder too; keys themselves are removed with `countersign keys delete`, never by an
; uninstaller.

; A 64-bit installer for a 64-bit program (and one that Wine's 64-bit-only builds can run).
Target amd64-unicode
!include "MUI2.nsh"
!include "FileFunc.nsh"
!include "LogicLib.nsh"

!ifndef VERSION
  !error "Give the version: -DVERSION=1.2.3"
!endif
!ifndef EXE
  !error "Give the program to install: -DEXE=path\to\countersign.exe"
!endif
!ifndef OUTFILE
  !define OUTFILE "countersign_${VERSION}_x64-setup.exe"
!endif

!define PRODUCT "Countersign"
!define PUBLISHER "Countersign"
!define UNINSTALL_KEY "Software\Microsoft\Windows\CurrentVersion\Uninstall\Countersign"
; Where the program keeps its key list and history (directories' data_dir on Windows) and its
; cache (the keychain lock file).
!define DATA_DIR "$APPDATA\countersign"
!define CACHE_DIR "$LOCALAPPDATA\countersign"

Name "${PRODUCT}"
OutFile "${OUTFILE}"
InstallDir "$LOCALAPPDATA\Programs\Countersign"
InstallDirRegKey HKCU "${UNINSTALL_KEY}" "InstallLocation"
RequestExecutionLevel user
SetCompressor /SOLID lzma
ManifestDPIAware true
BrandingText "${PRODUCT} ${VERSION}"

VIProductVersion "${VERSION}.0"
VIAddVersionKey "ProductName" "${PRODUCT}"
VIAddVersionKey "ProductVersion" "${VERSION}"
VIAddVersionKey "FileVersion" "${VERSION}"
VIAddVersionKey "FileDescription" "${PRODUCT} ${VERSION} installer"
VIAddVersionKey "CompanyName" "${PUBLISHER}"
VIAddVersionKey "LegalCopyright" "MIT OR Apache-2.0"

!define MUI_ICON "..\countersign.ico"
!define MUI_UNICON "..\countersign.ico"
!define MUI_ABORTWARNING
!define MUI_FINISHPAGE_RUN "$INSTDIR\countersign.exe"
!define MUI_FINISHPAGE_RUN_TEXT "Open Countersign"

!insertmacro MUI_PAGE_DIRECTORY
!insertmacro MUI_PAGE_INSTFILES
!insertmacro MUI_PAGE_FINISH
!insertmacro MUI_UNPAGE_CONFIRM
!insertmacro MUI_UNPAGE_COMPONENTS
!insertmacro MUI_UNPAGE_INSTFILES
!insertmacro MUI_LANGUAGE "English"

Section "Countersign" SecProgram
  SectionIn RO
  SetOutPath "$INSTDIR"
  File "/oname=countersign.exe" "${EXE}"
  WriteUninstaller "$INSTDIR\uninstall.exe"
  CreateShortcut "$SMPROGRAMS\Countersign.lnk" "$INSTDIR\countersign.exe" "" "$INSTDIR\countersign.exe" 0 \
    SW_SHOWNORMAL "" "Sign Atlassian Data Center apps for UPM"

  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayName" "${PRODUCT}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayVersion" "${VERSION}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "Publisher" "${PUBLISHER}"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "DisplayIcon" "$INSTDIR\countersign.exe,0"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "InstallLocation" "$INSTDIR"
  WriteRegStr HKCU "${UNINSTALL_KEY}" "UninstallString" '"$INSTDIR\uninstall.exe"'
  WriteRegStr HKCU "${UNINSTALL_KEY}" "QuietUninstallString" '"$INSTDIR\uninstall.exe" /S'
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoModify" 1
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "NoRepair" 1
  ${GetSize} "$INSTDIR" "/S=0K" $0 $1 $2
  WriteRegDWORD HKCU "${UNINSTALL_KEY}" "EstimatedSize" $0
SectionEnd

Section "un.Countersign" UnSecProgram
  SectionIn RO
  Delete "$SMPROGRAMS\Countersign.lnk"
  Delete "$INSTDIR\countersign.exe"
  Delete "$INSTDIR\uninstall.exe"
  ; Only if empty: nothing the person put there goes with it.
  RMDir "$INSTDIR"
  DeleteRegKey HKCU "${UNINSTALL_KEY}"
SectionEnd

Section /o "un.Also remove my key list and signing history" UnSecData
  ; The keys themselves stay in the Credential Manager (countersign keys delete removes one).
  RMDir /r "${DATA_DIR}"
  RMDir /r "${CACHE_DIR}"
SectionEnd

LangString DESC_UnSecData ${LANG_ENGLISH} "The data folder ($APPDATA\countersign): which keys exist, their certificates, when they were last used, and what was signed for whom. The private keys stay in the Credential Manager."
!insertmacro MUI_UNFUNCTION_DESCRIPTION_BEGIN
  !insertmacro MUI_DESCRIPTION_TEXT ${UnSecData} $(DESC_UnSecData)
!insertmacro MUI_UNFUNCTION_DESCRIPTION_END

Function un.onInit
  ; Silent uninstalls keep the data unless /REMOVEDATA is given.
  ${GetParameters} $0
  ClearErrors
  ${GetOptions} $0 "/REMOVEDATA" $1
  ${IfNot} ${Errors}
    SectionSetFlags ${UnSecData} ${SF_SELECTED}
  ${EndIf}
FunctionEnd
