import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';

import { App } from './app';
import { ensureRandomUuid } from './ensure-random-uuid';
import './styles.css';

ensureRandomUuid();

const rootElement = document.getElementById('root');
if (rootElement === null) {
  throw new Error('index.html has no #root element to render the app into');
}

createRoot(rootElement).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
