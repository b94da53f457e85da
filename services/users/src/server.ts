import { main } from '@shiftops/service-kit';
import { usersService } from './service.js';

await main(usersService);
