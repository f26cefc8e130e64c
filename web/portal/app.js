// app.js — the client portal: the screen registry and the shell.
// CRM (leads, pipeline), CMS (pages) and workflow screens join this list as
// one module each when their APIs exist; the nav shows only what is here.

import { startPortal } from '../shared/shell.js';
import { accountScreen } from '../shared/screens/account.js';
import { auditScreen } from '../shared/screens/audit.js';
import { eventsScreen } from '../shared/screens/events.js';
import { usersScreen } from '../shared/screens/users.js';
import apiKeys from './screens/apikeys.js';
import dashboard from './screens/dashboard.js';

startPortal({
  id: 'client-portal',
  title: 'Client portal',
  base: '/portal',
  roles: ['client', 'manager', 'tenant_admin', 'super_admin'],
  screens: [dashboard, usersScreen(), apiKeys, auditScreen(), eventsScreen(), accountScreen()],
});
