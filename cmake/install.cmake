# What `cmake --install` (and so the Debian package, packaging/debian)
# installs besides the binary (src/cmd/CMakeLists.txt installs that): the
# systemd units, the journald catalog, the configuration and contracts, the
# man pages, the Prometheus alert rules and the documentation.
#
# With the prefix /usr, the configuration goes to /etc (GNUInstallDirs makes
# the full sysconfdir /etc for that prefix), so a package marks it as
# conffiles.
include(GNUInstallDirs)

# Debian 12 keeps units in /lib/systemd/system (debian/rules sets it); the
# default, relative to the prefix, is also on systemd's search path for
# /usr and /usr/local.
set(SSEMON_SYSTEMD_UNIT_DIR "lib/systemd/system"
    CACHE STRING "Directory for the systemd units (absolute, or relative to the prefix)")

set(ssemon_src ${PROJECT_SOURCE_DIR})

install(FILES ${ssemon_src}/systemd/ssemon.service ${ssemon_src}/systemd/ssemon@.service
        DESTINATION ${SSEMON_SYSTEMD_UNIT_DIR})
# Not CMAKE_INSTALL_LIBDIR: that is multiarch on Debian, and journalctl only
# reads PREFIX/lib/systemd/catalog.
install(FILES ${ssemon_src}/systemd/ssemon.catalog DESTINATION lib/systemd/catalog)

# The installed configuration watches nothing (no subscriptions, no
# probes): a monitor started before anyone edits it must not poll example
# hosts. The example (a gateway subscription and three probes) goes with
# the documentation, to be copied and edited.
install(FILES ${ssemon_src}/etc/ssemon/ssemon.json
        DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/ssemon)
install(FILES ${ssemon_src}/etc/ssemon/example.json
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples
        RENAME ssemon.json)
file(GLOB ssemon_contracts ${ssemon_src}/etc/ssemon/contracts/*.json)
install(FILES ${ssemon_contracts} DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/ssemon/contracts)

install(FILES ${ssemon_src}/etc/prometheus/ssemon-alerts.yml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/ssemon/prometheus)

# Roff pages only (NAME.SECTION); each goes to the man directory of its
# section.
file(GLOB ssemon_man_pages ${ssemon_src}/docs/man/*.[1-9])
foreach(page ${ssemon_man_pages})
  string(REGEX MATCH "[1-9]$" section ${page})
  install(FILES ${page} DESTINATION ${CMAKE_INSTALL_MANDIR}/man${section})
endforeach()

# The test server is not installed, so neither is its page.
file(GLOB ssemon_docs ${ssemon_src}/docs/*.md)
list(FILTER ssemon_docs EXCLUDE REGEX "/test-server\\.md$")
install(FILES ${ssemon_src}/README.md ${ssemon_docs} DESTINATION ${CMAKE_INSTALL_DOCDIR})

# Bash completion of the commands, their options, contract, subscription
# and probe names (packaging/completion/ssemon).
install(FILES ${ssemon_src}/packaging/completion/ssemon
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
