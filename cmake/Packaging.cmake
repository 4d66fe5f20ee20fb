# The Debian package (scripts/package: -DTSA_PACKAGE=ON on the release preset, then cpack).
# Contents: tsad and the tools in /usr/bin, a man page for each (help2man, from --help and
# --version), the hardened systemd unit, /etc/tsad/tsad.conf as a conffile and the maintainer
# scripts of packaging/debian/ (postinst creates the tsad user, never keys). Dependencies come from
# dpkg-shlibdeps plus adduser. tests/package/install_test.sh installs it into a fresh Debian 12.
find_program(HELP2MAN help2man)
if(NOT HELP2MAN)
  message(FATAL_ERROR "TSA_PACKAGE needs help2man for the man pages (scripts/install-deps --package)")
endif()

# name | section | one-line description (the man page's NAME line)
set(tsa_man_pages
    "tsad|8|RFC 3161 time-stamping authority daemon"
    "tsa-certgen|1|create development TSA keys and certificates"
    "tsa-request|1|ask an RFC 3161 time-stamping authority for a token"
    "tsa-verify|1|verify an RFC 3161 time-stamp token"
    "tsa-audit|1|statistics, export and proof bundles of tsad's audit log"
    "tsa-audit-verify|1|verify tsad's audit log and its anchors")
set(man_files "")
foreach(entry ${tsa_man_pages})
  string(REPLACE "|" ";" fields "${entry}")
  list(GET fields 0 prog)
  list(GET fields 1 section)
  list(GET fields 2 summary)
  set(out ${PROJECT_BINARY_DIR}/man/${prog}.${section})
  add_custom_command(
    OUTPUT ${out}.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${PROJECT_BINARY_DIR}/man
    COMMAND ${HELP2MAN} --no-info --no-discard-stderr --section=${section} --name=${summary}
            --output=${out} $<TARGET_FILE:${prog}>
    COMMAND gzip -9nf ${out}
    DEPENDS ${prog}
    COMMENT "Man page ${prog}(${section})"
    VERBATIM)
  list(APPEND man_files ${out}.gz)
  install(FILES ${out}.gz DESTINATION share/man/man${section})
endforeach()
add_custom_target(man_pages ALL DEPENDS ${man_files})

install(FILES ${PROJECT_SOURCE_DIR}/packaging/tsad.service DESTINATION lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/tsad.conf DESTINATION /etc/tsad)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/CHANGELOG.md
        DESTINATION share/doc/tsad)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME tsad)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "tsad maintainers <tsad@invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "RFC 3161 time-stamping authority with an anchored audit log")
set(CPACK_PACKAGE_DESCRIPTION
    "tsad issues RFC 3161 time-stamp tokens over HTTP, signs them with OpenSSL 3 and appends each one to a hash-chained SQLite audit log whose checkpoints are time-stamped by external TSAs. The package also ships the tools tsa-request, tsa-verify, tsa-certgen, tsa-audit and tsa-audit-verify, and a hardened systemd unit (not enabled until keys are installed).")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES TRUE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
# The clock must be synchronised for tsad to issue tokens; anchoring uses HTTPS.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "ca-certificates, systemd-timesyncd | chrony | ntpsec | time-daemon")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/packaging/debian/postinst ${PROJECT_SOURCE_DIR}/packaging/debian/prerm
    ${PROJECT_SOURCE_DIR}/packaging/debian/postrm ${PROJECT_SOURCE_DIR}/packaging/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
include(CPack)
