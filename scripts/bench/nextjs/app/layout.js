export const metadata = { title: 'Quire' };

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <head>
        <link rel="stylesheet" href="/pkg/quire.css" />
      </head>
      <body>{children}</body>
    </html>
  );
}
