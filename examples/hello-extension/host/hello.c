/* The host binary of the hello extension: Docker Desktop copies it to the user's machine and
 * the UI runs it by name. It says which OS and CPU it was built for, so a user can see that
 * Desktop picked the right one. */
#include <stdio.h>

#if defined(__APPLE__)
#define HELLO_OS "darwin"
#elif defined(_WIN32)
#define HELLO_OS "windows"
#else
#define HELLO_OS "linux"
#endif

#if defined(__x86_64__) || defined(_M_X64)
#define HELLO_ARCH "amd64"
#elif defined(__aarch64__) || defined(_M_ARM64)
#define HELLO_ARCH "arm64"
#else
#define HELLO_ARCH "unknown"
#endif

int main(void) {
    puts("hello from the hello extension, built for " HELLO_OS "/" HELLO_ARCH);
    return 0;
}
