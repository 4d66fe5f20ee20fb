# The build's identity for `--version` and /health: the project VERSION plus the git commit it was
# built from. The commit is read at configure time (`git describe --always --dirty`), so rerun the
# configure step (scripts/run-tests and the presets do) after committing. Without a git checkout
# (a source tarball, the Docker build context, which excludes .git) it is -DTSA_GIT_COMMIT=...
# when given (the release workflow passes the tag's commit), else "unknown".
set(TSA_GIT_COMMIT "" CACHE STRING "Git commit to report when the source tree is not a git checkout")

set(tsa_commit "${TSA_GIT_COMMIT}")
if(tsa_commit STREQUAL "")
  find_package(Git QUIET)
  if(GIT_FOUND)
    execute_process(
      COMMAND ${GIT_EXECUTABLE} describe --always --dirty --abbrev=12
      WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
      OUTPUT_VARIABLE tsa_commit
      OUTPUT_STRIP_TRAILING_WHITESPACE
      ERROR_QUIET)
  endif()
endif()
if(tsa_commit STREQUAL "")
  set(tsa_commit "unknown")
endif()
message(STATUS "tsad ${PROJECT_VERSION}, git ${tsa_commit}")

# A generated source file, not a compile definition: a new commit recompiles one file, not the tree.
set(TSA_BUILD_COMMIT "${tsa_commit}")
configure_file(${PROJECT_SOURCE_DIR}/cmake/build_version.cc.in ${PROJECT_BINARY_DIR}/generated/build_version.cc @ONLY)
