/**
 * The page served when the machine has no disk: 612 bytes, the size of nginx's welcome page,
 * so that benchmarks of the two serve the same amount.
 */
export const DEFAULT_PAGE = `<!DOCTYPE html>
<html>
<head>
<title>Welcome to uk!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to uk!</h1>
<p>If you see this page, the uk httpd unikernel is running: a TypeScript
kernel in its own virtual machine, reached through the VMM's user-mode
network and a forwarded host port.</p>

<p>Give it a FAT disk image to serve your own files, as in
<code>uk run apps/httpd --disk site.img,ro</code>, read-only is fine.</p>

<p><em>Thank you for using uk!</em></p>
</body>
</html>
`;
